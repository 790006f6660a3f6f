import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { type Config, operatorTokens } from '../../config';
import type { AppState } from '../context';
import { unauthorized } from '../errors';
import { bindLog } from './request-id';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Finds whose bearer token an Authorization header holds among `known` (name and token); undefined
 * when it holds none of them. Every digest is compared, in constant time whatever the presented length.
 */
export function bearerMatcher(
  known: ReadonlyArray<{ name: string; token: string }>,
): (authorization: string | undefined) => string | undefined {
  const digests = known.map(({ name, token }) => ({ name, digest: digest(token) }));
  return (authorization) => {
    const presented = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!presented) return undefined;
    const offered = digest(presented);
    let found: string | undefined;
    for (const candidate of digests) {
      if (timingSafeEqual(offered, candidate.digest)) found ??= candidate.name;
    }
    return found;
  };
}

/**
 * Operator routes: `Authorization: Bearer <token>` of ADMIN_API_TOKEN (the operator `admin`) or of
 * one of ADMIN_API_TOKENS (`alice:<token>,...`); sets `ctx.state.operator`. With no token
 * configured, all refused.
 */
export function adminAuth(
  config: Pick<Config, 'ADMIN_API_TOKEN' | 'ADMIN_API_TOKENS'>,
): Middleware<AppState> {
  const operatorOf = bearerMatcher(
    operatorTokens(config).map(({ operator, token }) => ({ name: operator, token })),
  );
  return async (ctx, next) => {
    const operator = operatorOf(ctx.get('Authorization'));
    if (!operator) throw unauthorized('Admin token required');
    ctx.state.operator = operator;
    bindLog(ctx.state, { actor: 'admin', operator });
    await next();
  };
}
