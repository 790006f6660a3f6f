import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { countLedgerLostRace, countLedgerWrite, type LedgerWriteResult } from '../metrics';
import { isDuplicateKeyError } from '../mongo/collections';
import { IdempotencyConflictError, InsufficientCreditsError, LedgerBusyError } from './errors';
import { entryIdOf } from './ids';
import {
  advanceCache,
  findEntryByKey,
  type LedgerStore,
  normaliseBalances,
  readCachedHead,
  rollForward,
} from './store';
import type { AccountHead, Balances, EntryKind, LedgerEntry, LedgerResult } from './types';

// The only way credits change: insert entry seq n+1 computed from the state at seq n. The unique
// indexes decide every race: (account, seq) lets one writer take each place, (account, key) lets a
// key apply once. No $inc, no read-modify-write of a balance, no transaction. Entries are contiguous
// (n+1 is computed from entry n), so "n+1 is free" means "n is the head".

export interface AppendRequest {
  account_id: string;
  instance_id: string;
  user_id: string;
  kind: EntryKind;
  credit_type: string;
  idempotency_key: string;
  /** True when the key was made up for this call: it cannot have been used, so no lookups for it. */
  fresh_key: boolean;
  request_hash: string;
  reason?: string;
  expires_at?: Date;
  ref?: string;
  /** Who asked, for entries an operator made (admin adjustments): the operator and the request id. */
  operator?: string;
  request_id?: string;
  /** The change, from the balances at the head; throws to refuse (e.g. not enough credits). */
  delta: (balances: Balances) => number;
}

export interface AppendOptions {
  maxAttempts: number;
  now: () => Date;
  /** Whether to move the cache to this seq (default yes); a burst of queued writes moves it less often. */
  updateCache?: (seq: number) => boolean;
  onCacheError?: (error: unknown) => void;
}

/**
 * Full jitter, doubling up to 64 ms: spreads writers that keep colliding on a hot account, without
 * leaving a long-time loser asleep while a fresh writer takes every place.
 */
function backoff(lostRaces: number): Promise<void> {
  return sleep(Math.random() * Math.min(64, 2 ** (lostRaces + 1)));
}

function replay(entry: LedgerEntry, request: AppendRequest): LedgerResult {
  if (entry.request_hash !== request.request_hash)
    throw new IdempotencyConflictError(request.idempotency_key);
  return { entry, balances: entry.balances_after, replayed: true };
}

function nextEntry(request: AppendRequest, head: AccountHead, delta: number, now: Date): LedgerEntry {
  const seq = head.seq + 1;
  const balances_after = {
    ...head.balances,
    [request.credit_type]: (head.balances[request.credit_type] ?? 0) + delta,
  };
  const entry: LedgerEntry = {
    _id: entryIdOf(request.account_id, seq),
    account_id: request.account_id,
    instance_id: request.instance_id,
    user_id: request.user_id,
    seq,
    kind: request.kind,
    credit_type: request.credit_type,
    delta,
    balances_after,
    idempotency_key: request.idempotency_key,
    request_hash: request.request_hash,
    transaction_id: randomUUID(),
    created_at: now,
  };
  if (request.reason !== undefined) entry.reason = request.reason;
  if (request.expires_at !== undefined) entry.expires_at = request.expires_at;
  if (request.ref !== undefined) entry.ref = request.ref;
  if (request.operator !== undefined) entry.operator = request.operator;
  if (request.request_id !== undefined) entry.request_id = request.request_id;
  return entry;
}

/**
 * Optimistic: the insert goes straight to head.seq + 1, and the unique index is the check that head
 * is still the latest (a cached head may lag, never lie: it is always some entry's state). A refusal
 * is only ever decided on a head just confirmed by reading forward to the latest entry.
 */
export async function appendEntry(
  store: LedgerStore,
  request: AppendRequest,
  start: AccountHead,
  options: AppendOptions,
): Promise<LedgerResult> {
  try {
    const result = await append(store, request, start, options);
    countLedgerWrite(request.kind, result.replayed ? 'replayed' : 'written');
    return result;
  } catch (error) {
    countLedgerWrite(request.kind, writeFailure(error));
    throw error;
  }
}

function writeFailure(error: unknown): LedgerWriteResult {
  if (error instanceof LedgerBusyError) return 'busy';
  if (error instanceof IdempotencyConflictError) return 'conflict';
  if (error instanceof InsufficientCreditsError) return 'refused';
  return 'error';
}

async function append(
  store: LedgerStore,
  request: AppendRequest,
  start: AccountHead,
  options: AppendOptions,
): Promise<LedgerResult> {
  let head = start;
  let confirmedLatest = false; // a read found no entry after head

  /** Reads forward to the latest entry; our own key among those passed means we already applied. */
  const catchUp = async (): Promise<LedgerResult | undefined> => {
    const rolled = await rollForward(store, head);
    head = rolled.head;
    confirmedLatest = true;
    const mine = rolled.passed.find((entry) => entry.idempotency_key === request.idempotency_key);
    return mine ? replay(mine, request) : undefined;
  };

  let lostRaces = 0;
  while (lostRaces < options.maxAttempts) {
    let delta: number;
    try {
      delta = request.delta(head.balances);
    } catch (refusal) {
      // Never refuse on a head that may be stale: catch up and decide again.
      if (!confirmedLatest) {
        const replayed = await catchUp();
        if (replayed) return replayed;
        continue;
      }
      // A retry of a request that already succeeded must get its first answer, not a refusal
      // computed from the balance it left behind.
      const earlier = request.fresh_key
        ? null
        : await findEntryByKey(store, request.account_id, request.idempotency_key);
      if (earlier) return replay(earlier, request);
      if (refusal instanceof InsufficientCreditsError) refusal.seq = head.seq;
      throw refusal;
    }

    const entry = nextEntry(request, head, delta, options.now());
    try {
      await store.entries.insertOne(entry);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // Lost a race for this seq, or the head we started from was behind. Let the winners through,
      // then move on with at most two point reads: no read forward to the end, which would let the
      // winner's next write win again while this one is still reading.
      lostRaces += 1;
      countLedgerLostRace(request.kind);
      await backoff(lostRaces);
      const cached = await readCachedHead(store, request.account_id);
      if (cached && cached.seq > entry.seq) {
        head = cached; // the winners' cache is ahead: start there (the key index still guards replays)
        confirmedLatest = false;
        continue;
      }
      const holder = await store.entries.findOne({ _id: entry._id });
      if (holder) {
        if (holder.idempotency_key === request.idempotency_key) return replay(holder, request);
        head = {
          account_id: request.account_id,
          seq: holder.seq,
          balances: normaliseBalances(holder.balances_after, store.creditTypes),
        };
        confirmedLatest = false;
        continue;
      }
      // Our place is free, so the key index refused: this key was applied earlier.
      const earlier = request.fresh_key
        ? null
        : await findEntryByKey(store, request.account_id, request.idempotency_key);
      if (earlier) return replay(earlier, request);
      continue;
    }

    if (options.updateCache?.(entry.seq) ?? true) {
      const after: AccountHead = {
        account_id: request.account_id,
        seq: entry.seq,
        balances: entry.balances_after,
      };
      // The entry is the truth and it is written; a failed cache update must not turn success into failure.
      await advanceCache(store, after, entry.created_at).catch((error) => options.onCacheError?.(error));
    }
    return { entry, balances: entry.balances_after, replayed: false };
  }
  throw new LedgerBusyError(request.account_id, options.maxAttempts);
}
