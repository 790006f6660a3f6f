import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type { Scope } from '../tenancy/scopes';
import type { AppDeps, AppState } from './context';
import { adminAuth } from './middleware/admin-auth';
import { AuthFailureLimiter } from './middleware/auth-failures';
import { idempotency } from './middleware/idempotency';
import { type PluginRouteOptions, pluginAuth } from './middleware/plugin-auth';
import { rateLimit } from './middleware/rate-limit';

export interface Guards {
  /**
   * A plugin route: authenticated instance, then its per-minute limit. A pending instance is refused
   * (403 instance_pending) unless the route says `whilePending`.
   */
  plugin(scope?: Scope, options?: PluginRouteOptions): Middleware<AppState>;
  /** An unauthenticated route, limited per client address. */
  anonymous(): Middleware<AppState>;
  /** An operator route under /admin/v1. */
  admin(): Middleware<AppState>;
  /** Honours Idempotency-Key (after the caller is known: keys are per instance). */
  idempotent(): Middleware<AppState>;
}

export function createGuards(deps: AppDeps): Guards {
  const limit = deps.config.RATE_LIMIT_PER_MINUTE;
  const perInstance = rateLimit(deps.db, limit, (ctx) => `instance:${ctx.state.instance!.instance_id}`);
  const perAddress = rateLimit(
    deps.db,
    deps.config.REGISTRATION_RATE_LIMIT_PER_MINUTE,
    (ctx) => `ip:${ctx.ip}`,
  );
  const failures = new AuthFailureLimiter(deps.config.AUTH_FAILURE_LIMIT_PER_MINUTE);
  const admin = adminAuth(deps.config.ADMIN_API_TOKEN);
  const replay = idempotency(deps.db);
  return {
    plugin: (scope, options) => compose([pluginAuth(deps, failures, scope, options), perInstance]),
    anonymous: () => perAddress,
    admin: () => admin,
    idempotent: () => replay,
  };
}
