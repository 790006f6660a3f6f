import type { Collection, Db } from 'mongodb';
import { collectionNames } from '../mongo/collections';
import { entryIdOf } from './ids';
import type { AccountHead, Balances, LedgerAccount, LedgerEntry } from './types';

// Reading an account's exact head. The `ledger_accounts` document is only a cache: it may lag (a
// crash between insert and cache update, a burst that moves it every 16th entry), so every read
// rolls forward from it through the entries.

export interface LedgerStore {
  entries: Collection<LedgerEntry>;
  accounts: Collection<LedgerAccount>;
  creditTypes: readonly string[];
}

export function ledgerStore(db: Db, creditTypes: readonly string[]): LedgerStore {
  return {
    entries: db.collection<LedgerEntry>(collectionNames.ledgerEntries),
    accounts: db.collection<LedgerAccount>(collectionNames.ledgerAccounts),
    creditTypes,
  };
}

/** Every configured type present (a type added to CREDIT_TYPES later starts at zero). */
export function normaliseBalances(balances: Balances | undefined, creditTypes: readonly string[]): Balances {
  const normalised: Balances = {};
  for (const type of creditTypes) normalised[type] = balances?.[type] ?? 0;
  for (const [type, amount] of Object.entries(balances ?? {})) normalised[type] ??= amount;
  return normalised;
}

/**
 * Follows entries seq+1, seq+2, ... (primary-key point reads) until there is none, so the answer is
 * the state after the last entry written before the read, whatever the cache said.
 */
export async function rollForward(
  store: LedgerStore,
  from: AccountHead,
): Promise<{ head: AccountHead; passed: LedgerEntry[] }> {
  let head = from;
  const passed: LedgerEntry[] = [];
  for (;;) {
    const next = await store.entries.findOne({ _id: entryIdOf(head.account_id, head.seq + 1) });
    if (!next) return { head, passed };
    passed.push(next);
    head = headAt(store, next);
  }
}

/**
 * The account's cache document and, in the same round trip, the entry right after the cached seq
 * (null when there is none, the common case: then the cache is the latest state). A `$lookup` on
 * the entries' `_id`, so it is one point read of each collection on MongoDB and on the local server.
 */
export async function readAccountAndNext(
  store: LedgerStore,
  accountId: string,
): Promise<{ account: LedgerAccount | null; next: LedgerEntry | null }> {
  const [found] = await store.accounts
    .aggregate<LedgerAccount & { next: LedgerEntry[] }>([
      { $match: { _id: accountId } },
      { $addFields: { next_entry_id: { $concat: ['$_id', '#', { $toString: { $add: ['$seq', 1] } }] } } },
      {
        $lookup: {
          from: store.entries.collectionName,
          localField: 'next_entry_id',
          foreignField: '_id',
          as: 'next',
        },
      },
    ])
    .toArray();
  if (!found) return { account: null, next: null };
  const { next, next_entry_id: _id, ...account } = found as typeof found & { next_entry_id?: string };
  return { account: account as LedgerAccount, next: next[0] ?? null };
}

/** The state right after an entry: the head an append may start from. */
export function headAt(store: LedgerStore, entry: LedgerEntry): AccountHead {
  return {
    account_id: entry.account_id,
    seq: entry.seq,
    balances: normaliseBalances(entry.balances_after, store.creditTypes),
  };
}

/** The cached head: some entry's exact state, possibly not the latest. */
export async function readCachedHead(
  store: LedgerStore,
  accountId: string,
): Promise<AccountHead | undefined> {
  const account = await store.accounts.findOne({ _id: accountId });
  if (!account) return undefined;
  return {
    account_id: accountId,
    seq: account.seq,
    balances: normaliseBalances(account.balances, store.creditTypes),
  };
}

/**
 * Moves the cache to a head this writer just wrote, only forward: the filter on seq makes the
 * update a no-op when another writer already moved it further (single-document updates are atomic
 * on MongoDB and on the local server). It can still lag, after a crash between an entry's insert and
 * this update, which is why readers look for the entry after it.
 */
export async function advanceCache(store: LedgerStore, head: AccountHead, now: Date): Promise<void> {
  await store.accounts.updateOne(
    { _id: head.account_id, seq: { $lt: head.seq } },
    { $set: { seq: head.seq, balances: head.balances, updated_at: now } },
  );
}

export function findEntryByKey(
  store: LedgerStore,
  accountId: string,
  idempotencyKey: string,
): Promise<LedgerEntry | null> {
  // An index lookup, but a second one: only replays and refusals of caller-keyed requests come here,
  // never the common path.
  return store.entries.findOne({ account_id: accountId, idempotency_key: idempotencyKey });
}
