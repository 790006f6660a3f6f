import type Router from '@koa/router';
import Koa from 'koa';
import { packageStore } from '../packages/store';
import type { AppDeps, AppState } from './context';
import { createGuards } from './guards';
import { errorHandler } from './middleware/error-handler';
import { httpMetrics } from './middleware/http-metrics';
import { jsonBody } from './middleware/json-body';
import { requestContext } from './middleware/request-id';
import { requireHttps } from './middleware/require-https';
import { openApiDocument } from './openapi';
import { type Route, routerFor } from './route';
import { adminAuditRoutes } from './routes/admin-audit';
import { adminCreditRoutes } from './routes/admin-credits';
import { adminInstanceRoutes } from './routes/admin-instances';
import { adminPackageRoutes } from './routes/admin-packages';
import { adminStatsRoutes } from './routes/admin-stats';
import { adminUserRoutes } from './routes/admin-users';
import { adminWebhookRoutes } from './routes/admin-webhooks';
import { analyticsRoutes } from './routes/analytics';
import { apiKeyRoutes } from './routes/api-keys';
import { authDebugRoutes } from './routes/auth-debug';
import { creditRoutes } from './routes/credits';
import { healthRoutes } from './routes/health';
import { instanceRoutes } from './routes/instances';
import { metricsRoutes } from './routes/metrics';
import { openApiRoutes } from './routes/openapi';
import { packageRoutes } from './routes/packages';
import { pluginConfigRoutes } from './routes/plugin-config';
import { pluginRoutes } from './routes/plugins';
import { purchaseRoutes } from './routes/purchases';
import { stripeWebhookRoutes } from './routes/stripe-webhook';
import { webhookRoutes } from './routes/webhooks';

/**
 * Every route, one group per module, in the order requests try them: the first route that matches a
 * request answers it. Both the routers and the OpenAPI document are made from these.
 */
export function appRoutes(deps: AppDeps): Route[][] {
  const { ledger } = deps;
  const packages = packageStore(deps.db);
  let document: unknown;
  const groups: Route[][] = [
    healthRoutes(deps),
    metricsRoutes(),
    openApiRoutes(() => {
      document ??= openApiDocument(deps.config, groups.flat());
      return document;
    }),
    authDebugRoutes(deps),
    pluginRoutes(deps),
    instanceRoutes(deps),
    apiKeyRoutes(deps),
    packageRoutes({ packages, creditTypes: deps.config.CREDIT_TYPES }),
    creditRoutes({ ...deps, ledger }),
    analyticsRoutes(deps),
    purchaseRoutes(deps),
    stripeWebhookRoutes(deps),
    pluginConfigRoutes(deps),
    adminInstanceRoutes(deps),
    adminUserRoutes(deps),
    adminStatsRoutes(deps),
    adminCreditRoutes({ ...deps, ledger }),
    adminPackageRoutes({ ...deps, packages }),
    webhookRoutes(deps),
    adminWebhookRoutes(deps),
    adminAuditRoutes(deps),
  ];
  return groups;
}

/** One router per group of routes, in order (also read by the OpenAPI document's test). */
export function appRouters(deps: AppDeps): Router<AppState>[] {
  // Authentication, rate limits and Idempotency-Key are per route (guards): public routes stay public.
  const guards = createGuards(deps);
  return appRoutes(deps).map((routes) => routerFor(routes, guards));
}

/** The HTTP app. The middleware order below is the request's path through it. */
export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: deps.config.TRUST_PROXY });
  app.silent = true; // errors are logged by errorHandler, with the request id

  app.use(requestContext(deps.logger));
  app.use(httpMetrics());
  app.use(errorHandler());
  app.use(requireHttps(deps.config.REQUIRE_HTTPS));
  app.use(jsonBody());

  for (const router of appRouters(deps)) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
