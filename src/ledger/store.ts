import type { Collection, Db } from 'mongodb';
import { collectionNames } from '../mongo/collections';
import { entryIdOf } from './ids';
import type { AccountHead, Balances, LedgerAccount, LedgerEntry } from './types';

// Reading an account's exact head. The `ledger_accounts` document is only a cache: it may lag (a
// crash between insert and cache update, a burst that moves it every 16th entry) or step back (two
// cache updates racing), so every read rolls forward from it through the entries.

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
 * `head` if it is still the latest: one point read of entry seq+1 by `_id`, which usually finds
 * nothing. Entries are contiguous and never change, so "seq+1 is absent" proves the head (which is
 * entry seq's own state) is current. Undefined when seq+1 exists: another process wrote since, and
 * the caller starts again from the cache, which is at most a few entries behind, rather than reading
 * forward from an old seq.
 */
export async function confirmLatest(store: LedgerStore, head: AccountHead): Promise<AccountHead | undefined> {
  const next = await store.entries.findOne(
    { _id: entryIdOf(head.account_id, head.seq + 1) },
    { projection: { _id: 1 } },
  );
  return next ? undefined : head;
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
 * Moves the cache to a head this writer just wrote. Filtered on _id alone: the local server looks up
 * by index only for a plain `_id` filter and scans for `{_id, seq: {$lt: n}}`. So two writers may
 * leave the cache a step behind (never ahead of an entry); readers read forward from it anyway,
 * which is what makes reads exact.
 */
export async function advanceCache(store: LedgerStore, head: AccountHead, now: Date): Promise<void> {
  await store.accounts.updateOne(
    { _id: head.account_id },
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
