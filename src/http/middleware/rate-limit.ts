import type { Middleware } from 'koa';
import type { Db } from 'mongodb';
import { collectionNames } from '../../mongo/collections';
import { isDuplicateKeyError } from '../../mongo/errors';
import type { AppState } from '../context';
import { ApiError } from '../errors';

/**
 * A fixed window per caller, shared by every API process through MongoDB. A request is let through
 * by claiming one of the window's `limit` numbered slots with an insert that a unique index guards
 * (key, window, slot); a taken slot means "try the next one". Inserts are never lost, unlike `$inc`
 * on this MongoDB-wire server, so exactly `limit` requests a window get through, however many API
 * processes race. The slot documents double as request telemetry (platform, plugin version) and
 * expire after a day.
 */
export function rateLimit(
  db: Db,
  limit: number,
  keyOf: (ctx: Parameters<Middleware<AppState>>[0]) => string,
  windowMs = 60_000,
): Middleware<AppState> {
  const slots = db.collection(collectionNames.rateLimitHits);
  return async (ctx, next) => {
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const key = keyOf(ctx);
    const resetSeconds = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
    ctx.set('RateLimit-Limit', String(limit));
    ctx.set('RateLimit-Reset', String(resetSeconds));

    let slot = (await slots.countDocuments({ key, window })) + 1;
    for (; slot <= limit; slot += 1) {
      try {
        await slots.insertOne({
          key,
          window,
          slot,
          at: new Date(now),
          path: ctx.path.slice(0, 200),
          platform: ctx.state.client?.platform,
          plugin_version: ctx.state.client?.plugin_version,
          expire_at: new Date(now + 24 * 3600_000),
        });
        break;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    ctx.set('RateLimit-Remaining', String(Math.max(0, limit - slot)));
    if (slot > limit) {
      throw new ApiError(
        429,
        'rate_limited',
        `Rate limit of ${limit} requests per minute exceeded; retry in ${resetSeconds}s`,
        {},
        { 'Retry-After': String(resetSeconds) },
      );
    }
    await next();
  };
}
