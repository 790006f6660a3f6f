import type { Middleware } from 'koa';
import type { Db } from 'mongodb';
import { collectionNames } from '../../mongo/collections';
import { isDuplicateKeyError } from '../../mongo/errors';
import type { AppState } from '../context';
import { errorBody, toApiError } from '../error-map';
import { ApiError } from '../errors';
import { receivedRequestHash } from '../idempotency';

interface IdempotencyRecord {
  instance_id: string;
  key: string;
  request_hash: string;
  state: 'in_progress' | 'done';
  /** An in-progress claim older than this is abandoned (its process died) and may be taken over. */
  claimed_until: Date;
  response_status?: number;
  response_body?: unknown;
  created_at: Date;
  expire_at: Date;
}

const claimMs = 60_000;
const keepMs = 24 * 3600_000;

/**
 * `Idempotency-Key` on the POSTs that move money or credits. The first request with a key claims it
 * with an insert (unique per instance and key) and stores its answer; the same key and body later
 * get that answer again with `Idempotent-Replayed: true`; the same key with another body is 409.
 * Handlers underneath are idempotent on their own (ledger keys, purchase ids derived from the key),
 * so taking over a claim abandoned by a crashed process is safe.
 */
const operatorKeyScope = '#operators';

export function idempotency(db: Db): Middleware<AppState> {
  const records = db.collection<IdempotencyRecord>(collectionNames.idempotencyKeys);
  return async (ctx, next) => {
    const key = ctx.get('Idempotency-Key');
    if (!key) return next();
    if (key.length > 255)
      throw new ApiError(400, 'invalid_request', 'Invalid fields: Idempotency-Key (1-255 characters)');
    // Operators' keys live apart from every instance's: `#` is never in an instance id, so no
    // instance (not even one named "admin") can collide with them.
    const instanceId = ctx.state.instance?.instance_id ?? operatorKeyScope;
    const requestHash = receivedRequestHash(ctx);
    ctx.state.idempotencyKey = key;

    const now = new Date();
    try {
      await records.insertOne({
        instance_id: instanceId,
        key,
        request_hash: requestHash,
        state: 'in_progress',
        claimed_until: new Date(now.getTime() + claimMs),
        created_at: now,
        expire_at: new Date(now.getTime() + keepMs),
      });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await records.findOne({ instance_id: instanceId, key });
      if (!existing)
        throw new ApiError(409, 'idempotency_conflict', 'Idempotency-Key is being reused; retry');
      if (existing.request_hash !== requestHash) {
        throw new ApiError(
          409,
          'idempotency_conflict',
          'This Idempotency-Key was used with a different request',
        );
      }
      if (existing.state === 'done') {
        ctx.status = existing.response_status ?? 200;
        ctx.body = existing.response_body;
        ctx.set('Idempotent-Replayed', 'true');
        return;
      }
      if (existing.claimed_until > now) {
        throw new ApiError(
          409,
          'idempotency_conflict',
          'A request with this Idempotency-Key is still in progress',
        );
      }
      await records.updateOne(
        { instance_id: instanceId, key },
        { $set: { claimed_until: new Date(now.getTime() + claimMs) } },
      );
    }

    try {
      await next();
    } catch (error) {
      // 4xx answers (a 402 included) are part of the record: the same request gets them again. On a
      // 5xx or a crash the key is released so that the client's retry runs the request again.
      const known = toApiError(error);
      if (known && known.status < 500) {
        await records.updateOne(
          { instance_id: instanceId, key },
          { $set: { state: 'done', response_status: known.status, response_body: errorBody(known) } },
        );
      } else {
        await records.deleteOne({ instance_id: instanceId, key, state: 'in_progress' });
      }
      throw error;
    }
    if (ctx.status >= 500) {
      await records.deleteOne({ instance_id: instanceId, key, state: 'in_progress' });
      return;
    }
    await records.updateOne(
      { instance_id: instanceId, key },
      { $set: { state: 'done', response_status: ctx.status, response_body: ctx.body } },
    );
  };
}
