import type { Middleware } from 'koa';
import { findApiKey } from '../../tenancy/api-keys';
import { parseScopedKey, tokenMatches } from '../../tenancy/credentials';
import { findInstance, type InstanceDoc } from '../../tenancy/instances';
import type { Scope } from '../../tenancy/scopes';
import { parseClientInfo } from '../../tenancy/user-agent';
import type { AppDeps, AppState } from '../context';
import { ApiError, unauthorized } from '../errors';

function bearer(header: string): string | undefined {
  const match = /^Bearer ([^\s]{1,512})$/.exec(header);
  return match?.[1];
}

/** Which credential the caller presented, if it belongs to this instance and is still valid. */
async function credentialScopes(
  deps: AppDeps,
  instance: InstanceDoc,
  token: string,
  now: Date,
): Promise<Scope[] | 'all' | undefined> {
  const scoped = parseScopedKey(token);
  if (scoped) {
    const key = await findApiKey(deps.db, scoped.keyId);
    if (!key || key.instance_id !== instance.instance_id || !tokenMatches(token, key.key_hash))
      return undefined;
    if (key.revoked_at || (key.expires_at && key.expires_at <= now)) return undefined;
    return key.scopes;
  }
  if (tokenMatches(token, instance.api_token_hash)) return 'all';
  const inGrace = instance.previous_api_token_expires_at && instance.previous_api_token_expires_at > now;
  if (inGrace && tokenMatches(token, instance.previous_api_token_hash)) return 'all';
  return undefined;
}

/**
 * Plugin authentication: Bearer token (the instance's api_token, or a scoped key) + X-Instance-ID +
 * an allowed User-Agent. Sets `ctx.state.instance` and `ctx.state.client` for the routes.
 * `scope` is what a scoped key must hold; omit it for routes only the instance token may call.
 */
export function pluginAuth(deps: AppDeps, scope?: Scope): Middleware<AppState> {
  return async (ctx, next) => {
    const token = bearer(ctx.get('Authorization'));
    const instanceId = ctx.get('X-Instance-ID');
    if (!token || !instanceId) throw unauthorized('Bearer token and X-Instance-ID are required');
    if (instanceId.length > 128) throw unauthorized();

    const instance = await findInstance(deps.db, instanceId);
    const now = new Date();
    const granted = instance ? await credentialScopes(deps, instance, token, now) : undefined;
    if (!instance || !granted) throw unauthorized();

    const userAgent = ctx.get('User-Agent');
    if (!deps.config.ALLOWED_USER_AGENTS.some((prefix) => userAgent.startsWith(prefix))) {
      throw new ApiError(403, 'forbidden', 'This client (User-Agent) is not allowed');
    }
    if (instance.status === 'disabled') {
      throw new ApiError(
        403,
        'instance_disabled',
        `This instance is disabled: ${instance.disabled_reason ?? ''}`.trim(),
      );
    }
    if (granted !== 'all' && (!scope || !granted.includes(scope))) {
      throw new ApiError(
        403,
        'forbidden',
        scope ? `This API key lacks the ${scope} scope` : 'Needs the instance token',
      );
    }

    ctx.state.instance = instance;
    ctx.state.client = parseClientInfo(userAgent, ctx.get('X-Platform') || undefined);
    ctx.state.log = ctx.state.log.child({ instance_id: instance.instance_id, ...ctx.state.client });
    await next();
  };
}
