import Koa from 'koa';
import type { AppDeps, AppState } from './context';
import { createGuards } from './guards';
import { errorHandler } from './middleware/error-handler';
import { jsonBody } from './middleware/json-body';
import { requestContext } from './middleware/request-id';
import { requireHttps } from './middleware/require-https';
import { adminInstanceRoutes } from './routes/admin-instances';
import { adminWebhookRoutes } from './routes/admin-webhooks';
import { apiKeyRoutes } from './routes/api-keys';
import { healthRoutes } from './routes/health';
import { instanceRoutes } from './routes/instances';
import { pluginConfigRoutes } from './routes/plugin-config';
import { pluginRoutes } from './routes/plugins';
import { webhookRoutes } from './routes/webhooks';

/** The HTTP app. The middleware order below is the request's path through it. */
export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: deps.config.TRUST_PROXY });
  app.silent = true; // errors are logged by errorHandler, with the request id

  app.use(requestContext(deps.logger));
  app.use(errorHandler());
  app.use(requireHttps(deps.config.REQUIRE_HTTPS));
  app.use(jsonBody());

  // Authentication and rate limits are per route (guards), so public routes stay public.
  const guards = createGuards(deps);
  const routers = [
    healthRoutes(deps),
    pluginRoutes(deps, guards),
    instanceRoutes(deps, guards),
    apiKeyRoutes(deps, guards),
    adminInstanceRoutes(deps, guards),
    pluginConfigRoutes(deps, guards),
    webhookRoutes(deps, guards),
    adminWebhookRoutes(deps, guards),
  ];
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
