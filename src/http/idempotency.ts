import type { Db } from 'mongodb';
import { collectionNames, isDuplicateKeyError } from '../mongo/collections';
import type { AppContext } from './context';
import { ApiError } from './errors';

// `Idempotency-Key` on POSTs that move credits. The ledger applies a key once per account; this
// claim makes the key mean one request across the caller's whole scope (an instance, or the
// operators), so reusing it for another user or another amount is `409 idempotency_conflict`.

interface IdempotencyClaim {
  _id: string;
  request_hash: string;
  created_at: Date;
}

export function idempotencyKeyOf(ctx: AppContext): string | undefined {
  const key = ctx.get('Idempotency-Key');
  if (key === '') return undefined;
  if (key.length > 255) {
    throw new ApiError(400, 'invalid_request', 'Invalid fields: Idempotency-Key (1 to 255 characters)');
  }
  return key;
}

export function idempotencyConflict(): ApiError {
  return new ApiError(
    409,
    'idempotency_conflict',
    'This Idempotency-Key was already used with a different request',
  );
}

/** Records which request a key belongs to; the same key with a different request is a conflict. */
export async function claimIdempotencyKey(
  db: Db,
  claim: { scope: string; key: string; request_hash: string },
): Promise<void> {
  const claims = db.collection<IdempotencyClaim>(collectionNames.idempotencyKeys);
  const _id = `${encodeURIComponent(claim.scope)}|${claim.key}`;
  try {
    await claims.insertOne({ _id, request_hash: claim.request_hash, created_at: new Date() });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const existing = await claims.findOne({ _id });
    if (existing?.request_hash !== claim.request_hash) throw idempotencyConflict();
  }
}

export function markReplayed(ctx: AppContext, replayed: boolean): void {
  if (replayed) ctx.set('Idempotent-Replayed', 'true');
}
