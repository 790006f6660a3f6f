import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import type { AppState } from '../context';
import { unauthorized } from '../errors';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `/admin/v1/*`: `Authorization: Bearer <ADMIN_API_TOKEN>`. Hashing both sides first gives equal
 * lengths, so the comparison takes the same time whatever the guess. No token configured: all 401.
 */
export function adminAuth(adminToken: string | undefined): Middleware<AppState> {
  const expected = adminToken ? digest(adminToken) : undefined;
  return async (ctx, next) => {
    const match = /^Bearer (.+)$/.exec(ctx.get('Authorization'));
    if (!expected || !match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw unauthorized('Missing or invalid admin token');
    }
    await next();
  };
}
