import type { Db, IndexDescription } from 'mongodb';

// The one place that names the collections and their indexes. Unique indexes here are what make
// writes safe to repeat: a retried insert hits the index instead of writing twice.

export const collectionNames = {
  instances: 'instances',
  credentialRotations: 'credential_rotations',
  apiKeys: 'api_keys',
  rateLimitWindows: 'rate_limit_windows',
  pluginConfig: 'plugin_config',
  providerSettings: 'provider_settings',
  idempotencyKeys: 'idempotency_keys',
  purchases: 'purchases',
  ledgerEntries: 'ledger_entries',
  ledgerAccounts: 'ledger_accounts',
  packages: 'packages',
  generationEvents: 'generation_events',
  analyticsTransactions: 'analytics_transactions',
  analyticsSyncs: 'analytics_syncs',
  webhookEvents: 'webhook_events',
  webhookEndpoints: 'webhook_endpoints',
  webhookDeliveries: 'webhook_deliveries',
  webhookAttempts: 'webhook_attempts',
  webhookSupersedeMarks: 'webhook_supersede_marks',
  webhookQueue: 'webhook_queue',
  webhookWakes: 'webhook_wakes',
  webhookBroadcasts: 'webhook_broadcasts',
  operatorNotifications: 'operator_notifications',
  adminAudit: 'admin_audit',
} as const;

const indexes: Record<string, IndexDescription[]> = {
  // Two registrations of one instance_id: the second insert fails, and gets 409.
  [collectionNames.instances]: [
    { key: { instance_id: 1 }, name: 'instance_id_unique', unique: true },
    // GET /auth/debug finds a token's instance by the token's hash.
    { key: { api_token_hash: 1 }, name: 'api_token_hash' },
    { key: { previous_api_token_hash: 1 }, name: 'previous_api_token_hash' },
  ],
  // One rotation per credentials version: concurrent rotations cannot both win.
  [collectionNames.credentialRotations]: [
    { key: { instance_id: 1, version: 1 }, name: 'instance_version_unique', unique: true },
  ],
  [collectionNames.apiKeys]: [
    { key: { key_id: 1 }, name: 'key_id_unique', unique: true },
    { key: { instance_id: 1, created_at: 1 }, name: 'instance_created' },
  ],
  // An Idempotency-Key is claimed by exactly one request per instance.
  [collectionNames.idempotencyKeys]: [
    { key: { instance_id: 1, key: 1 }, name: 'instance_key_unique', unique: true },
    { key: { expire_at: 1 }, name: 'expire_at_ttl', expireAfterSeconds: 0 },
  ],
  // A purchase id is unique, so a retried request (same Idempotency-Key) finds its purchase.
  [collectionNames.purchases]: [
    { key: { purchase_id: 1 }, name: 'purchase_id_unique', unique: true },
    { key: { stripe_checkout_session_id: 1 }, name: 'stripe_checkout_session_id' },
    { key: { stripe_payment_intent_id: 1 }, name: 'stripe_payment_intent_id' },
    { key: { instance_id: 1, created_at: -1 }, name: 'instance_created' },
  ],
  [collectionNames.pluginConfig]: [{ key: { key: 1 }, name: 'key_unique', unique: true }],
  // Webhook events, deliveries and attempts use their natural key as `_id` (event id, delivery id,
  // run:attempt): unique by construction, so a retried write hits it instead of writing twice, and a
  // plain `_id` filter is the one every MongoDB-wire server answers from an index.
  [collectionNames.webhookEvents]: [{ key: { instance_id: 1, created_at: 1 }, name: 'instance_created' }],
  // 'default' is an endpoint id in every instance, so ids are unique per instance.
  [collectionNames.webhookEndpoints]: [
    { key: { instance_id: 1, endpoint_id: 1 }, name: 'instance_endpoint_unique', unique: true },
  ],
  [collectionNames.webhookDeliveries]: [
    { key: { instance_id: 1, endpoint_id: 1, created_at: 1 }, name: 'endpoint_created' },
    { key: { status: 1, created_at: 1 }, name: 'status_created' },
    { key: { event_id: 1 }, name: 'event' },
  ],
  // What is still to be sent, by endpoint and next try (MongoDB answers a drain's poll from this
  // index; the local server scans, which is cheap because only what is on its way stays here).
  [collectionNames.webhookQueue]: [{ key: { endpoint_key: 1, due_at: 1 }, name: 'endpoint_due' }],
  // A broadcast is stored before its workflow starts; the sweep starts those whose start was lost.
  [collectionNames.webhookBroadcasts]: [{ key: { started: 1, requested_at: 1 }, name: 'started_requested' }],
  [collectionNames.webhookAttempts]: [
    { key: { instance_id: 1, endpoint_id: 1, started_at: 1 }, name: 'endpoint_started' },
  ],
  // A notification is raised once per cause (dedupe_key), however many attempts observe it.
  [collectionNames.operatorNotifications]: [
    { key: { dedupe_key: 1 }, name: 'dedupe_key_unique', unique: true },
    { key: { created_at: 1 }, name: 'created' },
  ],
  // Every admin write, newest first (GET /admin/v1/audit), for all operators or one.
  [collectionNames.adminAudit]: [
    { key: { at: -1, _id: -1 }, name: 'at' },
    { key: { operator: 1, at: -1, _id: -1 }, name: 'operator_at' },
  ],
  // One counter per (caller, window), keyed by _id; gone a minute after its window.
  [collectionNames.rateLimitWindows]: [
    { key: { expire_at: 1 }, name: 'expire_at_ttl', expireAfterSeconds: 0 },
  ],
  [collectionNames.ledgerEntries]: [
    // Two writers can never take the same place in an account's sequence (the entry's _id,
    // `<account>#<seq>`, says the same thing; this index also serves history range reads on MongoDB).
    { key: { account_id: 1, seq: 1 }, name: 'account_seq_unique', unique: true },
    // An idempotency key is applied at most once per account, whatever the caller retries.
    { key: { account_id: 1, idempotency_key: 1 }, name: 'account_idempotency_key_unique', unique: true },
    { key: { transaction_id: 1 }, name: 'transaction_id_unique', unique: true },
    // What a purchase caused (its grant, refunds, dispute holds): read by refunds and audits.
    { key: { ref: 1, kind: 1 }, name: 'ref_kind' },
  ],
  [collectionNames.ledgerAccounts]: [{ key: { instance_id: 1, user_id: 1 }, name: 'instance_user' }],
  [collectionNames.generationEvents]: [
    // A resent analytics batch stores each event once.
    { key: { instance_id: 1, event_key: 1 }, name: 'instance_event_key_unique', unique: true },
    { key: { instance_id: 1, occurred_at: 1 }, name: 'instance_occurred_at' },
  ],
  // The plugin's hourly sync resends overlapping hours: each transaction row and each period once.
  [collectionNames.analyticsTransactions]: [
    { key: { instance_id: 1, event_key: 1 }, name: 'instance_event_key_unique', unique: true },
    { key: { instance_id: 1, occurred_at: 1 }, name: 'instance_occurred_at' },
  ],
  [collectionNames.analyticsSyncs]: [
    { key: { instance_id: 1, period_key: 1 }, name: 'instance_period_unique', unique: true },
  ],
};

/** Creates every index; safe to run on each start and from several processes at once. */
export async function ensureIndexes(db: Db): Promise<void> {
  for (const [collection, specs] of Object.entries(indexes)) {
    // One index per command: a failure names the one index it is about (and FerretDB 1.24, the old
    // local server, dropped the connection when one command named several that already existed).
    for (const spec of specs) {
      try {
        await db.collection(collection).createIndexes([spec]);
      } catch (error) {
        // A server without TTL indexes: keep a plain index and let pruneExpired() do the deleting.
        if (spec.expireAfterSeconds === undefined || !/not implemented/i.test(String(error))) throw error;
        const { expireAfterSeconds: _ttl, ...plain } = spec;
        await db.collection(collection).createIndexes([{ ...plain, name: `${spec.name}_plain` }]);
      }
    }
  }
}

/** Deletes documents whose TTL has passed, for servers without TTL indexes. Idempotent. */
export async function pruneExpired(db: Db, now = new Date()): Promise<number> {
  let deleted = 0;
  for (const [collection, specs] of Object.entries(indexes)) {
    for (const spec of specs) {
      if (spec.expireAfterSeconds !== 0) continue;
      const field = Object.keys(spec.key)[0]!;
      const result = await db.collection(collection).deleteMany({ [field]: { $lt: now } });
      deleted += result.deletedCount;
    }
  }
  return deleted;
}

export { isDuplicateKeyError } from './errors';
