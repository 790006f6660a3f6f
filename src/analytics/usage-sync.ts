import type { Db } from 'mongodb';
import { fingerprint, normaliseUserId } from '../ledger/ids';
import { collectionNames, isDuplicateKeyError } from '../mongo/collections';
import { parseSiteTime } from '../tenancy/site-time';
import {
  insertNew,
  type PluginGenerationInput,
  pluginGenerationDocument,
  recordGenerationEvents,
  withoutUndefined,
} from './generation-events';

// The plugin's hourly sync (send_analytics() in includes/class-rakubun-ai-external-api.php): the
// generations and credit transactions of a period, read from its own tables. It resends overlapping
// hours, so every row is stored once, keyed by what it says (see pluginGenerationKey).

export interface TransactionRowInput {
  user_id: string | number;
  transaction_type: string;
  credit_type: string;
  amount: number;
  created_at: string;
}

export interface UsageSyncInput {
  site_url?: string | null;
  sync_period?: { from: string; to: string } | null;
  generations: PluginGenerationInput[];
  transactions: TransactionRowInput[];
  total_users?: number | null;
  plugin_version?: string | null;
}

interface TransactionDocument {
  instance_id: string;
  event_key: string;
  user_id: string;
  transaction_type: string;
  credit_type: string;
  amount: number;
  occurred_at: Date;
  occurred_at_text: string;
  received_at: Date;
}

/**
 * A transaction row's key: the same reasoning as a generation's. The plugin sends no row id, so a
 * row is who, what kind, which credits, how many and when; two identical rows in one second are one.
 */
export function transactionKey(instanceId: string, row: TransactionRowInput, canonicalTime: string): string {
  return `txn:${fingerprint({
    instance_id: instanceId,
    user_id: normaliseUserId(row.user_id),
    transaction_type: row.transaction_type,
    credit_type: row.credit_type,
    amount: row.amount,
    created_at: canonicalTime,
  })}`;
}

export interface UsageSyncResult {
  /** New generations (ones not stored by an earlier sync or live report). */
  generations: number;
  transactions: number;
}

/** Stores a sync: its new generations, its new transactions, and the period's summary. */
export async function recordUsageSync(
  db: Db,
  instanceId: string,
  sync: UsageSyncInput,
  timezone: string | undefined,
  now = new Date(),
): Promise<UsageSyncResult> {
  const generations = await recordGenerationEvents(
    db,
    sync.generations.map((row) => pluginGenerationDocument(instanceId, 'usage_sync', row, timezone, now)),
  );
  const transactionDocs: TransactionDocument[] = sync.transactions.map((row) => {
    const time = parseSiteTime(row.created_at, timezone);
    return {
      instance_id: instanceId,
      event_key: transactionKey(instanceId, row, time.canonical),
      user_id: normaliseUserId(row.user_id),
      transaction_type: row.transaction_type,
      credit_type: row.credit_type,
      amount: row.amount,
      occurred_at: time.at ?? now,
      occurred_at_text: time.canonical,
      received_at: now,
    };
  });
  const transactions = await insertNew(db.collection(collectionNames.analyticsTransactions), transactionDocs);
  if (sync.sync_period) await recordSyncSummary(db, instanceId, sync, sync.sync_period, timezone, now);
  return { generations, transactions };
}

/**
 * One summary per (instance, period): a resent period updates its figures (the latest total_users
 * and plugin_version win) instead of adding a second record.
 */
async function recordSyncSummary(
  db: Db,
  instanceId: string,
  sync: UsageSyncInput,
  period: { from: string; to: string },
  timezone: string | undefined,
  now: Date,
) {
  const from = parseSiteTime(period.from, timezone);
  const to = parseSiteTime(period.to, timezone);
  const periodKey = `${from.canonical}/${to.canonical}`;
  const figures = withoutUndefined({
    period_from: from.at ?? undefined,
    period_to: to.at ?? undefined,
    total_users: sync.total_users ?? undefined,
    plugin_version: sync.plugin_version ?? undefined,
    site_url: sync.site_url ?? undefined,
    generations_sent: sync.generations.length,
    transactions_sent: sync.transactions.length,
    last_received_at: now,
  });
  const summaries = db.collection(collectionNames.analyticsSyncs);
  const filter = { instance_id: instanceId, period_key: periodKey };
  try {
    await summaries.insertOne({ ...filter, ...figures, first_received_at: now });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    await summaries.updateOne(filter, { $set: figures });
  }
}
