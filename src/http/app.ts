import Koa from 'koa';
import { ledgerFromConfig } from '../ledger/from-config';
import { packageStore } from '../packages/store';
import type { AppDeps, AppState } from './context';
import { errorHandler } from './middleware/error-handler';
import { jsonBody } from './middleware/json-body';
import { requestContext } from './middleware/request-id';
import { adminCreditRoutes } from './routes/admin-credits';
import { adminPackageRoutes } from './routes/admin-packages';
import { analyticsRoutes } from './routes/analytics';
import { creditRoutes } from './routes/credits';
import { healthRoutes } from './routes/health';
import { packageRoutes } from './routes/packages';

/** The HTTP app. The middleware order below is the request's path through it. */
export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: deps.config.TRUST_PROXY });
  app.silent = true; // errors are logged by errorHandler, with the request id

  const ledger = deps.ledger ?? ledgerFromConfig(deps);
  const packages = packageStore(deps.db);

  app.use(requestContext(deps.logger));
  app.use(errorHandler());
  app.use(jsonBody());

  const routers = [
    healthRoutes(deps),
    packageRoutes({ packages }),
    creditRoutes({ ...deps, ledger }),
    analyticsRoutes(deps),
    adminCreditRoutes({ ...deps, ledger }),
    adminPackageRoutes({ ...deps, packages }),
  ];
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
