import { isDuplicateKeyError } from '../mongo/collections';
import { accountIdOf, normaliseUserId } from './ids';
import { type LedgerStore, normaliseBalances } from './store';
import type { AccountHead, AccountRef, LedgerAccount } from './types';

// Opening an account: the cache document is created before the account's first entry, so "no
// account document" always means "no entries", and whoever finds `welcome_done` unset (the creator,
// or anyone after a crash) gives the welcome grants, which are keyed and so apply once.

export interface OpenedAccount {
  account: LedgerAccount;
  head: AccountHead;
  /** With `deferEmail`: the email the request names, left for the caller to store once its write is made. */
  pendingEmail?: string;
}

export async function openAccount(
  store: LedgerStore,
  ref: AccountRef,
  hasWelcome: boolean,
  now: Date,
  options: { deferEmail?: boolean } = {},
): Promise<OpenedAccount> {
  const accountId = accountIdOf(ref.instance_id, ref.user_id);
  let account = await store.accounts.findOne({ _id: accountId });
  if (!account) {
    const fresh: LedgerAccount = {
      _id: accountId,
      instance_id: ref.instance_id,
      user_id: normaliseUserId(ref.user_id),
      ...(ref.user_email ? { user_email: ref.user_email } : {}),
      seq: 0,
      balances: normaliseBalances({}, store.creditTypes),
      welcome_done: !hasWelcome,
      created_at: now,
      updated_at: now,
    };
    try {
      await store.accounts.insertOne(fresh);
      account = fresh;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      account = await store.accounts.findOne({ _id: accountId }); // a concurrent first request made it
      if (!account) throw error;
    }
  } else if (ref.user_email && account.user_email !== ref.user_email) {
    // The email is a label for operators and webhooks, not part of the money: last writer wins. A
    // write stores it only once it is made, so a refused one (402) changes nothing.
    if (options.deferEmail) {
      return { account, head: headOf(store, account), pendingEmail: ref.user_email };
    }
    await store.accounts.updateOne({ _id: accountId }, { $set: { user_email: ref.user_email } });
    account.user_email = ref.user_email;
  }
  return { account, head: headOf(store, account) };
}

function headOf(store: LedgerStore, account: LedgerAccount): AccountHead {
  return {
    account_id: account._id,
    seq: account.seq,
    balances: normaliseBalances(account.balances, store.creditTypes),
  };
}

/** Stores the email a write named (OpenedAccount.pendingEmail), once the write is made. */
export async function storeEmail(store: LedgerStore, accountId: string, email: string): Promise<void> {
  await store.accounts.updateOne({ _id: accountId }, { $set: { user_email: email } });
}

export async function markWelcomeDone(store: LedgerStore, accountId: string): Promise<void> {
  await store.accounts.updateOne({ _id: accountId }, { $set: { welcome_done: true } });
}
