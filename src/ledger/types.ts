// The shapes of the credits ledger. Plain types only, so workflows may import them.

export const entryKinds = [
  'purchase',
  'grant',
  'deduct',
  'refund',
  'dispute_hold',
  'dispute_release',
  'expire',
  'adjust',
] as const;
export type EntryKind = (typeof entryKinds)[number];

/** Credits per configured credit type (`article`, `image`, `rewrite`, ...). */
export type Balances = Record<string, number>;

/** One append-only line of an account's history. Entry `seq` k holds the account's state at k. */
export interface LedgerEntry {
  /** `<account_id>#<seq>`: lets a head lookup be a primary-key point read on any MongoDB-wire server. */
  _id: string;
  account_id: string;
  instance_id: string;
  user_id: string;
  seq: number;
  kind: EntryKind;
  credit_type: string;
  delta: number;
  balances_after: Balances;
  idempotency_key: string;
  /** sha256 of what was asked for: the same key with a different request is a conflict. */
  request_hash: string;
  transaction_id: string;
  reason?: string;
  expires_at?: Date;
  /** What caused the entry: a purchase id, the grant an expiry ends, ... */
  ref?: string;
  /** Entries an operator made (adjustments): who, and the request id their answer carried. */
  operator?: string;
  request_id?: string;
  created_at: Date;
}

/** A cache of an account's head, so that a balance read is one document, not a sum over history. */
export interface LedgerAccount {
  _id: string;
  instance_id: string;
  user_id: string;
  user_email?: string;
  seq: number;
  balances: Balances;
  /** Set once the welcome grants are in the ledger (they are keyed, so a re-run only replays). */
  welcome_done: boolean;
  created_at: Date;
  updated_at: Date;
}

/** Who an operation is for. `user_id` may arrive as a WordPress integer or a string. */
export interface AccountRef {
  instance_id: string;
  user_id: string | number;
  user_email?: string;
}

/** The exact state of an account at `seq`. */
export interface AccountHead {
  account_id: string;
  seq: number;
  balances: Balances;
}

/** What every write returns: the entry that holds the answer and whether it was written earlier. */
export interface LedgerResult {
  entry: LedgerEntry;
  /** The balances right after this entry (what the first response said, for a replay too). */
  balances: Balances;
  replayed: boolean;
}

/** Everything the expiry workflow needs to end a grant, so it never has to search for it. */
export interface GrantExpiryInput {
  account_id: string;
  instance_id: string;
  user_id: string;
  grant_entry_id: string;
  grant_transaction_id: string;
  credit_type: string;
  amount: number;
  /** ISO time. */
  expires_at: string;
}

/**
 * The most credits one ledger entry may move (an adjustment, a deduction, a package's grant). Far
 * beyond any real use, and small enough that no balance made of such entries nears
 * Number.MAX_SAFE_INTEGER, where sums would stop being exact.
 */
export const maxCreditsPerEntry = 1_000_000_000;
