import type { Middleware } from 'koa';
import type { Db } from 'mongodb';
import { collectionNames } from '../../mongo/collections';
import { isDuplicateKeyError } from '../../mongo/errors';
import type { AppState } from '../context';
import { ApiError } from '../errors';

interface WindowCounter {
  _id: string;
  count: number;
  expire_at: Date;
}

/**
 * A fixed window per caller, shared by every API process through MongoDB: one counter document per
 * (caller, window), bumped with one atomic upsert per request. `$inc` on a single document is atomic
 * on MongoDB and on the local server, so exactly `limit` requests a window get through however many
 * API processes race, and the work per request stays one write whatever the traffic was. Counters
 * expire a little after their window (a TTL index; pruneExpired where there is none).
 */
export function rateLimit(
  db: Db,
  limit: number,
  keyOf: (ctx: Parameters<Middleware<AppState>>[0]) => string,
  windowMs = 60_000,
): Middleware<AppState> {
  const counters = db.collection<WindowCounter>(collectionNames.rateLimitWindows);
  const bump = (id: string, expireAt: Date) =>
    counters.findOneAndUpdate(
      { _id: id },
      { $inc: { count: 1 }, $setOnInsert: { expire_at: expireAt } },
      { upsert: true, returnDocument: 'after', projection: { count: 1 } },
    );
  return async (ctx, next) => {
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const windowEnd = (window + 1) * windowMs;
    const id = `${keyOf(ctx)}:${windowMs}:${window}`;
    const resetSeconds = Math.max(1, Math.ceil((windowEnd - now) / 1000));
    ctx.set('RateLimit-Limit', String(limit));
    ctx.set('RateLimit-Reset', String(resetSeconds));

    const expireAt = new Date(windowEnd + 60_000);
    // Two first requests of a window may both try to insert the counter: the loser's upsert is
    // refused by the _id index, and bumping again finds the document.
    const counter = await bump(id, expireAt).catch((error) => {
      if (isDuplicateKeyError(error)) return bump(id, expireAt);
      throw error;
    });
    const count = counter?.count ?? 1;
    ctx.set('RateLimit-Remaining', String(Math.max(0, limit - count)));
    if (count > limit) {
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
