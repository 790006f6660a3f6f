import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import type { AppState } from '../context';
import { unauthorized } from '../errors';
import { bindLog } from './request-id';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Operator routes: `Authorization: Bearer <ADMIN_API_TOKEN>`; with no token configured, all refused. */
export function adminAuth(adminToken: string | undefined): Middleware<AppState> {
  const expected = adminToken ? digest(adminToken) : undefined;
  return async (ctx, next) => {
    const presented = /^Bearer (\S+)$/.exec(ctx.get('Authorization'))?.[1];
    // Comparing digests keeps the comparison constant-time whatever the presented length.
    if (!expected || !presented || !timingSafeEqual(digest(presented), expected)) {
      throw unauthorized('Admin token required');
    }
    bindLog(ctx.state, { actor: 'admin' });
    await next();
  };
}
