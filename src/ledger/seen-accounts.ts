import type { AccountHead, AccountRef } from './types';

// The last head this process saw for each account it served, and the email stored with it. A read
// starts from that seq (one query proves whether it is still the latest) and a write appends right
// after it (the unique index refuses a stale guess, and the append recovers), so a busy account
// does not have its cache document read on every call. Only accounts whose opening is complete
// (welcome grants given) are kept; a changed email goes the slow way, which stores it.

const maxAccounts = 10_000;

interface Seen {
  head: AccountHead;
  email: string | undefined;
}

export function seenAccounts() {
  const accounts = new Map<string, Seen>();
  return {
    /** A head to start from, unless this request brings an email the account does not have yet. */
    headFor(accountId: string, ref: Pick<AccountRef, 'user_email'>): AccountHead | undefined {
      const known = accounts.get(accountId);
      if (!known || (ref.user_email !== undefined && ref.user_email !== known.email)) return undefined;
      return known.head;
    },
    remember(head: AccountHead, email?: string): void {
      const known = accounts.get(head.account_id);
      if (known && known.head.seq > head.seq && email === undefined) return; // keep the newer one
      if (!known && accounts.size >= maxAccounts) accounts.clear();
      accounts.set(head.account_id, { head, email: email ?? known?.email });
    },
  };
}
