import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type { Scope } from '../tenancy/scopes';
import type { AppDeps, AppState } from './context';
import { adminAudit } from './middleware/admin-audit';
import { adminAuth } from './middleware/admin-auth';
import { AuthFailureLimiter } from './middleware/auth-failures';
import { idempotency } from './middleware/idempotency';
import { metricsAuth } from './middleware/metrics-auth';
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
  /** An operator route under /admin/v1 (sets `ctx.state.operator`). */
  admin(): Middleware<AppState>;
  /** After `admin` on a write: the admin_audit record of this request (src/audit/admin-audit.ts). */
  audit(declared: { method: string; path: string; summary: string }): Middleware<AppState>;
  /** A Prometheus scraper: METRICS_TOKEN or an operator token. */
  metrics(): Middleware<AppState>;
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
  const admin = adminAuth(deps.config);
  const scraper = metricsAuth(deps.config);
  const replay = idempotency(deps.db);
  return {
    plugin: (scope, options) => compose([pluginAuth(deps, failures, scope, options), perInstance]),
    anonymous: () => perAddress,
    admin: () => admin,
    audit: (declared) => adminAudit(deps.db, declared),
    metrics: () => scraper,
    idempotent: () => replay,
  };
}
