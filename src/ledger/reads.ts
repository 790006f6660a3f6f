import type { Db } from 'mongodb';
import { allOf, descendingAfter, type KeysetPage, type KeysetRequest, readPage } from '../mongo/keyset';
import { emailMatch } from '../mongo/text-match';
import { entryIdOf } from './ids';
import { ledgerStore, normaliseBalances, rollForward } from './store';
import type { AccountHead, LedgerAccount, LedgerEntry } from './types';

// What operators read of the ledger: accounts with their exact balances, and an account's entries
// newest first. Read only: nothing here opens an account or gives a welcome grant (the plugin's
// balance read does), and balances are the entries' own, never the cache's alone.

export interface AccountState {
  account: LedgerAccount;
  head: AccountHead;
  /** When the latest entry was written; null for an account without entries. */
  last_entry_at: Date | null;
}

/**
 * The exact head of an account from its cache document: the cache names some entry (it may be a few
 * behind), so reading from that entry forward, by primary key, ends at the latest one. Starting one
 * before the cached seq also reads the cached entry itself, whose time is the account's last
 * activity when nothing follows it.
 */
async function exactState(
  db: Db,
  creditTypes: readonly string[],
  account: LedgerAccount,
): Promise<AccountState> {
  const store = ledgerStore(db, creditTypes);
  const from = Math.max(0, account.seq - 1);
  const rolled = await rollForward(store, {
    account_id: account._id,
    seq: from,
    balances: normaliseBalances(account.balances, creditTypes),
  });
  const last = rolled.passed.at(-1);
  // seq 0 (no entries yet), or a cache ahead of every entry (never written that way): the cache.
  const head = last ? rolled.head : { ...rolled.head, seq: account.seq };
  return { account, head, last_entry_at: last?.created_at ?? null };
}

export interface AccountFilter {
  instance_id?: string;
  email?: string;
}

/** Accounts, newest first, each with its exact balances (one or two point reads an account). */
export async function listAccounts(
  db: Db,
  creditTypes: readonly string[],
  filter: AccountFilter,
  page: KeysetRequest,
): Promise<KeysetPage<AccountState>> {
  const store = ledgerStore(db, creditTypes);
  const fields = ['created_at', '_id'];
  const found = store.accounts.find(
    allOf(
      filter.instance_id !== undefined ? { instance_id: filter.instance_id } : undefined,
      filter.email !== undefined ? { user_email: emailMatch(filter.email) } : undefined,
      descendingAfter(fields, page.after),
    ),
  );
  const accounts = await readPage(found, fields, page, (doc) => [doc.created_at, doc._id]);
  return {
    items: await Promise.all(accounts.items.map((account) => exactState(db, creditTypes, account))),
    ...(accounts.next ? { next: accounts.next } : {}),
  };
}

/** One account's exact state, or null when it has no account document (no entries either). */
export async function accountState(
  db: Db,
  creditTypes: readonly string[],
  accountId: string,
): Promise<AccountState | null> {
  const account = await ledgerStore(db, creditTypes).accounts.findOne({ _id: accountId });
  return account ? exactState(db, creditTypes, account) : null;
}

/**
 * An account's entries newest first, `page.after` being `[account_id, seq]` of the last one shown.
 * Entries are contiguous (1..head) and never change, so a page is the `_id`s of a run of seqs: one
 * primary-key `$in` read, answered from the `_id` index by every server. Entries written while an
 * operator pages only ever come before page one: no page repeats or skips one.
 */
export async function accountEntries(
  db: Db,
  state: AccountState,
  page: KeysetRequest,
): Promise<KeysetPage<LedgerEntry>> {
  const accountId = state.head.account_id;
  const top = page.after ? Number(page.after[1]) - 1 : state.head.seq;
  const bottom = Math.max(1, top - page.limit + 1);
  if (top < 1) return { items: [] };
  const ids: string[] = [];
  for (let seq = top; seq >= bottom; seq--) ids.push(entryIdOf(accountId, seq));
  const entries = await ledgerStore(db, [])
    .entries.find({ _id: { $in: ids } })
    .toArray();
  entries.sort((a, b) => b.seq - a.seq);
  return { items: entries, ...(bottom > 1 ? { next: [accountId, bottom] } : {}) };
}
