import Router from '@koa/router';
import type { PackageStore } from '../../packages/store';
import { publicPackage } from '../../packages/types';
import type { AppState } from '../context';

/** `GET /api/v1/packages`: what a plugin can offer its users (active packages only). */
export function packageRoutes(deps: { packages: PackageStore }): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1' });
  router.get('/packages', async (ctx) => {
    const packages = await deps.packages.list({ activeOnly: true });
    ctx.body = { success: true, packages: packages.map(publicPackage) };
  });
  return router;
}
