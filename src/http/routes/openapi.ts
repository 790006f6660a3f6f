import Router from '@koa/router';
import type { AppDeps, AppState } from '../context';
import { openApiDocument } from '../openapi';

export function openApiRoutes(deps: AppDeps): Router<AppState> {
  const router = new Router<AppState>();
  let document: unknown;
  router.get('/openapi.json', (ctx) => {
    document ??= openApiDocument(deps.config);
    ctx.body = document;
  });
  return router;
}
