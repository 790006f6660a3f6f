import type { Db } from 'mongodb';
import { collectionNames } from '../mongo/collections';
import { purchaseStatuses } from '../purchases/model';
import { instanceStatuses } from '../tenancy/instances';
import { deliveryStatuses } from '../webhooks/deliveries';

// The operators' figures for a time range, computed in Node from plain range reads (find with a
// projection, streamed): no aggregation pipeline. MongoDB, FerretDB and the local server all answer a
// range find alike, while their aggregation support differs (FerretDB answered `{$sum: 1}` with 0;
// the local server implements a subset), and a figure that is right on one store only is worse than
// none. The cost is one pass over the range's documents of each collection, bounded by the range
// (at most maxStatsDays); nothing here needs an index beyond what the writes already have.

export const maxStatsDays = 366;

export interface StatsRange {
  /** Inclusive. */
  since: Date;
  /** Exclusive. */
  until: Date;
}

/** A UTC day, `2025-11-06`: the bucket of every per-day figure. */
const dayOf = (time: Date) => time.toISOString().slice(0, 10);

/** The nearest-rank percentile of sorted values (p in (0, 1]). */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}

/** Money paid for these purchases (refunded and disputed ones were paid first). */
const paidStatuses = new Set(['paid', 'fulfilled', 'refunded', 'disputed']);
/** Deliveries that ended trying to arrive; superseded and cancelled ones were not meant to any more. */
const endedAttempting = ['delivered', 'dead_lettered', 'gone', 'failed'] as const;
const attemptOutcomes = ['delivered', 'failed', 'gone', 'refused'] as const;

interface UsageRow {
  day: string;
  credit_type: string;
  generations: number;
  credits_used: number;
}

interface RevenueRow {
  day: string;
  currency: string;
  purchases: number;
  paid: number;
  revenue: number;
  refunded: number;
  lost_to_disputes: number;
  net_revenue: number;
}

export async function operatorStats(db: Db, range: StatsRange) {
  const inRange = { $gte: range.since, $lt: range.until };
  const activeInstances = new Set<string>();
  const activeAccounts = new Set<string>();

  // Instances and users: status counts are as of now; "new" and "active" are within the range.
  const instances = { total: 0, ...zeros([...instanceStatuses, 'deleted'] as const), active_in_range: 0 };
  for await (const doc of db
    .collection(collectionNames.instances)
    .find({}, { projection: { _id: 0, status: 1, deleted_at: 1 } })) {
    instances.total += 1;
    const status = doc.deleted_at ? 'deleted' : (doc.status as (typeof instanceStatuses)[number]);
    if (status in instances) instances[status] += 1;
  }
  const users = { total: 0, new_in_range: 0, active_in_range: 0 };
  for await (const doc of db
    .collection(collectionNames.ledgerAccounts)
    .find({}, { projection: { _id: 0, created_at: 1 } })) {
    users.total += 1;
    const created = doc.created_at as Date;
    if (created >= range.since && created < range.until) users.new_in_range += 1;
  }

  // Usage: generations as the plugin reported them, credits used as the ledger spent them.
  const usage = new Map<string, UsageRow>();
  const usageRow = (day: string, creditType: string) => {
    const key = `${day}\n${creditType}`;
    let row = usage.get(key);
    if (!row) {
      row = { day, credit_type: creditType, generations: 0, credits_used: 0 };
      usage.set(key, row);
    }
    return row;
  };
  for await (const doc of db
    .collection(collectionNames.generationEvents)
    .find(
      { occurred_at: inRange },
      { projection: { _id: 0, instance_id: 1, credit_type: 1, occurred_at: 1 } },
    )) {
    usageRow(dayOf(doc.occurred_at), String(doc.credit_type)).generations += 1;
    activeInstances.add(doc.instance_id);
  }
  for await (const doc of db.collection(collectionNames.ledgerEntries).find(
    { created_at: inRange },
    {
      projection: {
        _id: 0,
        account_id: 1,
        instance_id: 1,
        kind: 1,
        credit_type: 1,
        delta: 1,
        created_at: 1,
      },
    },
  )) {
    activeInstances.add(doc.instance_id);
    activeAccounts.add(doc.account_id);
    if (doc.kind === 'deduct') usageRow(dayOf(doc.created_at), doc.credit_type).credits_used -= doc.delta;
  }

  // Purchases started in the range, by the UTC day they started (created_at is an ISO string).
  const revenue = new Map<string, RevenueRow>();
  const byOutcome = zeros(purchaseStatuses);
  const latencies: number[] = [];
  for await (const doc of db.collection(collectionNames.purchases).find(
    { created_at: { $gte: range.since.toISOString(), $lt: range.until.toISOString() } },
    {
      projection: {
        _id: 0,
        instance_id: 1,
        status: 1,
        amount: 1,
        currency: 1,
        created_at: 1,
        'outcome.fulfilled_at': 1,
        'outcome.refunded_amount': 1,
        'outcome.dispute.status': 1,
      },
    },
  )) {
    activeInstances.add(doc.instance_id);
    const created = new Date(doc.created_at);
    const key = `${dayOf(created)}\n${doc.currency}`;
    let row = revenue.get(key);
    if (!row) {
      row = {
        day: dayOf(created),
        currency: doc.currency,
        purchases: 0,
        paid: 0,
        revenue: 0,
        refunded: 0,
        lost_to_disputes: 0,
        net_revenue: 0,
      };
      revenue.set(key, row);
    }
    row.purchases += 1;
    if (doc.status in byOutcome) byOutcome[doc.status as keyof typeof byOutcome] += 1;
    if (paidStatuses.has(doc.status)) {
      const refunded = doc.outcome?.refunded_amount ?? 0;
      // A lost dispute takes back what the refunds left.
      const lost = doc.outcome?.dispute?.status === 'lost' ? Math.max(0, doc.amount - refunded) : 0;
      row.paid += 1;
      row.revenue += doc.amount;
      row.refunded += refunded;
      row.lost_to_disputes += lost;
      row.net_revenue += doc.amount - refunded - lost;
    }
    const fulfilledAt = doc.outcome?.fulfilled_at ? Date.parse(doc.outcome.fulfilled_at) : Number.NaN;
    if (!Number.isNaN(fulfilledAt)) latencies.push(fulfilledAt - created.getTime());
  }
  latencies.sort((a, b) => a - b);

  // Webhooks: deliveries created in the range by where they stand, attempts made in it by outcome.
  const deliveries = zeros(deliveryStatuses);
  for await (const doc of db
    .collection(collectionNames.webhookDeliveries)
    .find({ created_at: inRange }, { projection: { _id: 0, status: 1 } })) {
    if (doc.status in deliveries) deliveries[doc.status as keyof typeof deliveries] += 1;
  }
  const attempts = { total: 0, ...zeros(attemptOutcomes) };
  for await (const doc of db
    .collection(collectionNames.webhookAttempts)
    .find({ started_at: inRange }, { projection: { _id: 0, outcome: 1 } })) {
    attempts.total += 1;
    if (doc.outcome in attempts) attempts[doc.outcome as (typeof attemptOutcomes)[number]] += 1;
  }
  const ended = endedAttempting.reduce((sum, status) => sum + deliveries[status], 0);

  instances.active_in_range = activeInstances.size;
  users.active_in_range = activeAccounts.size;
  const byDay = <T extends { day: string }>(rows: Iterable<T>, second: (row: T) => string) =>
    [...rows].sort((a, b) => a.day.localeCompare(b.day) || second(a).localeCompare(second(b)));
  return {
    since: range.since.toISOString(),
    until: range.until.toISOString(),
    instances,
    users,
    usage: byDay(usage.values(), (row) => row.credit_type),
    purchases: {
      by_day: byDay(revenue.values(), (row) => row.currency),
      by_outcome: byOutcome,
      fulfilment_latency_ms:
        latencies.length === 0
          ? { count: 0, p50: null, p99: null }
          : { count: latencies.length, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
    },
    webhooks: {
      deliveries,
      delivery_success_rate: ratio(deliveries.delivered, ended),
      attempts,
      attempt_success_rate: ratio(attempts.delivered, attempts.total),
    },
  };
}

export type OperatorStats = Awaited<ReturnType<typeof operatorStats>>;
