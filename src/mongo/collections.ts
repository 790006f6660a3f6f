import type { Db, IndexDescription } from 'mongodb';

// The one place that names the collections and their indexes. Unique indexes here are what make
// writes safe to repeat: a retried insert hits the index instead of writing twice.

export const collectionNames = {
  instances: 'instances',
  ledgerEntries: 'ledger_entries',
  ledgerAccounts: 'ledger_accounts',
  packages: 'packages',
  generationEvents: 'generation_events',
  /** `Idempotency-Key` claims of HTTP requests: `_id` is scope + key, so no index is needed. */
  idempotencyKeys: 'idempotency_keys',
} as const;

const indexes: Record<string, IndexDescription[]> = {
  [collectionNames.instances]: [{ key: { instance_id: 1 }, name: 'instance_id_unique', unique: true }],
  [collectionNames.ledgerEntries]: [
    // Two writers can never take the same place in an account's sequence (the entry's _id,
    // `<account>#<seq>`, says the same thing; this index also serves history range reads on MongoDB).
    { key: { account_id: 1, seq: 1 }, name: 'account_seq_unique', unique: true },
    // An idempotency key is applied at most once per account, whatever the caller retries.
    { key: { account_id: 1, idempotency_key: 1 }, name: 'account_idempotency_key_unique', unique: true },
    { key: { transaction_id: 1 }, name: 'transaction_id_unique', unique: true },
  ],
  [collectionNames.ledgerAccounts]: [{ key: { instance_id: 1, user_id: 1 }, name: 'instance_user' }],
  [collectionNames.generationEvents]: [
    // A resent analytics batch stores each event once.
    { key: { instance_id: 1, event_key: 1 }, name: 'instance_event_key_unique', unique: true },
    { key: { instance_id: 1, occurred_at: 1 }, name: 'instance_occurred_at' },
  ],
};

/** Creates every index; safe to run on each start and from several processes at once. */
export async function ensureIndexes(db: Db): Promise<void> {
  for (const [collection, specs] of Object.entries(indexes)) {
    // One index per command: FerretDB 1.24 drops the connection (a server-side panic) when one
    // createIndexes names several indexes that already exist, i.e. on every restart.
    for (const spec of specs) await db.collection(collection).createIndexes([spec]);
  }
}

/** MongoDB (and FerretDB) report a unique index violation as code 11000, on single and bulk writes. */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}
