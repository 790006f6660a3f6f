import type { Middleware } from 'koa';
import { authenticate } from '../../tenancy/authenticate';
import type { Scope } from '../../tenancy/scopes';
import { parseClientInfo } from '../../tenancy/user-agent';
import type { AppDeps, AppState } from '../context';
import { ApiError, unauthorized } from '../errors';
import type { AuthFailureLimiter } from './auth-failures';
import { bindLog } from './request-id';

export interface PluginRouteOptions {
  /** A pending instance (registered, not yet verified or approved) may call this route. */
  whilePending?: boolean;
}

export function bearer(header: string): string | undefined {
  const match = /^Bearer ([^\s]{1,512})$/.exec(header);
  return match?.[1];
}

/** A User-Agent is allowed when it starts with one of ALLOWED_USER_AGENTS. */
export function userAgentAllowed(allowed: readonly string[], userAgent: string): boolean {
  return allowed.some((prefix) => userAgent.startsWith(prefix));
}

/**
 * Plugin authentication: Bearer token (the instance's api_token, or a scoped key) + X-Instance-ID +
 * an allowed User-Agent. Sets `ctx.state.instance` and `ctx.state.client` for the routes.
 * `scope` is what a scoped key must hold; omit it for routes only the instance token may call.
 */
export function pluginAuth(
  deps: AppDeps,
  failures: AuthFailureLimiter,
  scope?: Scope,
  options: PluginRouteOptions = {},
): Middleware<AppState> {
  return async (ctx, next) => {
    const token = bearer(ctx.get('Authorization'));
    const instanceId = ctx.get('X-Instance-ID');
    if (!token || !instanceId) throw unauthorized('Bearer token and X-Instance-ID are required');
    if (instanceId.length > 128) throw unauthorized();

    const blocked = failures.blockedFor(ctx.ip, instanceId);
    if (blocked !== undefined) {
      throw new ApiError(
        429,
        'rate_limited',
        `Too many failed authentications for this instance; retry in ${blocked}s`,
        {},
        { 'Retry-After': String(blocked) },
      );
    }
    const authenticated = await authenticate(deps.db, instanceId, token);
    if (!authenticated) {
      failures.noteFailure(ctx.ip, instanceId);
      throw unauthorized();
    }
    const { instance, grant: granted } = authenticated;

    const userAgent = ctx.get('User-Agent');
    if (!userAgentAllowed(deps.config.ALLOWED_USER_AGENTS, userAgent)) {
      throw new ApiError(403, 'forbidden', 'This client (User-Agent) is not allowed');
    }
    if (instance.status === 'disabled') {
      throw new ApiError(
        403,
        'instance_disabled',
        `This instance is disabled: ${instance.disabled_reason ?? ''}`.trim(),
      );
    }
    if (instance.status === 'pending' && !options.whilePending) {
      const waitingFor =
        instance.pending_reason === 'operator_approval'
          ? "an operator's approval"
          : 'its site to answer the signed test_webhook sent at registration';
      throw new ApiError(403, 'instance_pending', `This instance is pending: it waits for ${waitingFor}`);
    }
    if (granted === 'read_only') {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        throw new ApiError(403, 'forbidden', 'A rotated-out token may only read until its grace period ends');
      }
    } else if (granted !== 'all' && (!scope || !granted.includes(scope))) {
      throw new ApiError(
        403,
        'forbidden',
        scope ? `This API key lacks the ${scope} scope` : 'Needs the instance token',
      );
    }

    ctx.state.instance = instance;
    ctx.state.client = parseClientInfo(userAgent, ctx.get('X-Platform') || undefined);
    bindLog(ctx.state, { instance_id: instance.instance_id, ...ctx.state.client });
    await next();
  };
}
