import Koa from 'koa';
import type { AppDeps, AppState } from './context';
import { errorHandler } from './middleware/error-handler';
import { jsonBody } from './middleware/json-body';
import { requestContext } from './middleware/request-id';
import { healthRoutes } from './routes/health';

/** The HTTP app. The middleware order below is the request's path through it. */
export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: deps.config.TRUST_PROXY });
  app.silent = true; // errors are logged by errorHandler, with the request id

  app.use(requestContext(deps.logger));
  app.use(errorHandler());
  app.use(jsonBody());

  for (const router of [healthRoutes(deps)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
