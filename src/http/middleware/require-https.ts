import type { Middleware } from 'koa';
import type { AppState } from '../context';
import { ApiError } from '../errors';

/**
 * With REQUIRE_HTTPS=true, plain-HTTP calls are refused (tokens must not travel in clear). Koa reads
 * X-Forwarded-Proto only when the app trusts its proxy (TRUST_PROXY=true). /health stays open for
 * load balancer probes.
 */
export function requireHttps(enabled: boolean): Middleware<AppState> {
  return async (ctx, next) => {
    if (enabled && ctx.protocol !== 'https' && ctx.path !== '/health') {
      throw new ApiError(403, 'https_required', 'HTTPS is required');
    }
    await next();
  };
}
