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

/** Slots of the current window this process has claimed and not used yet, per caller. */
interface Claim {
  next: number;
  last: number;
  /** The highest count the shared counter has shown this process this window. */
  known: number;
  /** The size of this process's next block for the caller: doubles while the caller keeps coming. */
  size: number;
  /** The block claim in flight, which concurrent requests of this caller wait for. */
  claiming?: Promise<void>;
}

/**
 * A fixed window per caller, shared by every API process through MongoDB: one counter document per
 * (caller, window), moved by atomic `$inc` upserts (atomic on MongoDB and on the local server).
 * A process claims a block of numbered slots with one upsert and admits one request per slot, so a
 * request costs at most one write, and far less under steady traffic. Blocks start at one slot each
 * window and double while the caller keeps coming, up to 1/16 of what is left of the window:
 * - never more than `limit` requests get through, however many processes share the counter;
 * - slots claimed and not used by the end of the window (a process that stopped getting traffic)
 *   are at most as many as that process used, and near the limit blocks are single slots;
 * - once a process has seen the counter reach the limit it refuses without writing.
 * Counters expire a minute after their window (a TTL index; pruneExpired where there is none).
 */
export function rateLimit(
  db: Db,
  limit: number,
  keyOf: (ctx: Parameters<Middleware<AppState>>[0]) => string,
  windowMs = 60_000,
): Middleware<AppState> {
  const counters = db.collection<WindowCounter>(collectionNames.rateLimitWindows);
  const bump = (id: string, size: number, expireAt: Date) =>
    counters.findOneAndUpdate(
      { _id: id },
      { $inc: { count: size }, $setOnInsert: { expire_at: expireAt } },
      { upsert: true, returnDocument: 'after', projection: { count: 1 } },
    );
  let claimsWindow = -1;
  const claims = new Map<string, Claim>();

  /** Claims the next block for a caller; one at a time per caller, so no claimed block is lost. */
  const claimBlock = async (claim: Claim, id: string, expireAt: Date): Promise<void> => {
    const size = Math.max(1, Math.min(claim.size, Math.floor((limit - claim.known) / 16)));
    claim.size = size * 2;
    // Two first requests of a window (in two processes) may both try to insert the counter: the
    // loser's upsert is refused by the _id index, and bumping again finds the document.
    const counter = await bump(id, size, expireAt).catch((error) => {
      if (isDuplicateKeyError(error)) return bump(id, size, expireAt);
      throw error;
    });
    const count = counter?.count ?? size;
    claim.known = Math.max(claim.known, count);
    claim.next = count - size + 1;
    claim.last = Math.min(count, limit);
  };

  /** The slot this request takes (1..limit), or limit + 1 when it is refused. */
  const takeSlot = async (key: string, window: number, expireAt: Date): Promise<number> => {
    if (window !== claimsWindow) {
      claims.clear(); // a new window: every caller starts again, and old claims are dropped
      claimsWindow = window;
    }
    let claim = claims.get(key);
    if (!claim) {
      claim = { next: 1, last: 0, known: 0, size: 1 };
      claims.set(key, claim);
    }
    for (;;) {
      if (claim.next <= claim.last) return claim.next++;
      if (claim.known >= limit) return limit + 1;
      if (!claim.claiming) {
        const current = claim;
        current.claiming = claimBlock(current, `${key}:${windowMs}:${window}`, expireAt).finally(() => {
          current.claiming = undefined;
        });
      }
      await claim.claiming;
    }
  };

  return async (ctx, next) => {
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const windowEnd = (window + 1) * windowMs;
    const resetSeconds = Math.max(1, Math.ceil((windowEnd - now) / 1000));
    ctx.set('RateLimit-Limit', String(limit));
    ctx.set('RateLimit-Reset', String(resetSeconds));

    const count = await takeSlot(keyOf(ctx), window, new Date(windowEnd + 60_000));
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
