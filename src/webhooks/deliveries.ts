import type { Db, Filter } from 'mongodb';
import { batchedWriter } from '../mongo/batched-writes';
import { collectionNames } from '../mongo/collections';
import { supersedeOrder, type WebhookEventType } from './catalogue';
import type { WebhookEventDoc } from './events';

// One delivery per (event, endpoint): the record operators read. The publisher creates it; from then
// on only the drain of its endpoint writes to it (there are no transactions, so one writer per record
// is what keeps it consistent). What is still to be sent is in the queue (queue.ts).

/**
 * Where a delivery stands: `pending` (queued or being retried), `delivered`, `dead_lettered` (retries
 * ran out, or the endpoint is disabled: kept for replay), `gone` (the receiver answered 410),
 * `superseded` (a newer credits_updated for the same user and endpoint made it redundant),
 * `cancelled` (the endpoint or the event no longer exists), `failed` (a one-shot test send that did
 * not get through).
 */
export const deliveryStatuses = [
  'pending',
  'delivered',
  'dead_lettered',
  'gone',
  'superseded',
  'cancelled',
  'failed',
] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/**
 * What an operator lists deliveries by: a status, or `retrying` (pending with a failed attempt in
 * its current round, so `pending` alone means not yet tried in this round).
 */
export const deliveryStates = [...deliveryStatuses, 'retrying'] as const;
export type DeliveryState = (typeof deliveryStates)[number];

export function deliveryState(doc: Pick<WebhookDeliveryDoc, 'status' | 'next_attempt_at'>): DeliveryState {
  return doc.status === 'pending' && doc.next_attempt_at ? 'retrying' : doc.status;
}

export const terminalStatuses: DeliveryStatus[] = [
  'delivered',
  'dead_lettered',
  'gone',
  'superseded',
  'cancelled',
  'failed',
];

export interface WebhookDeliveryDoc {
  delivery_id: string;
  event_id: string;
  endpoint_id: string;
  instance_id: string;
  event_type: WebhookEventType;
  status: DeliveryStatus;
  /** HTTP attempts over every run (replays included). */
  attempts: number;
  created_at: Date;
  updated_at: Date;
  supersede_key?: string;
  supersede_rank?: number;
  last_attempt_at?: Date;
  last_status_code?: number;
  last_error?: string;
  /**
   * While pending after a failed attempt (retrying): when its drain tries again. Written with each
   * failed attempt's outcome, removed when the delivery ends or is replayed (a new round).
   */
  next_attempt_at?: Date;
  delivered_at?: Date;
  dead_lettered_at?: Date;
  /** Why the delivery ended where it did, for the operator. */
  end_reason?: string;
  replays?: number;
}

/** `_id` is the delivery id (see collections.ts). */
export function webhookDeliveries(db: Db) {
  return db.collection<WebhookDeliveryDoc & { _id: string }>(collectionNames.webhookDeliveries);
}

export function deliveryId(eventId: string, endpointId: string): string {
  return `${eventId}:${endpointId}`;
}

/** The record of a new delivery of `event` to an endpoint. */
export function newDeliveryDoc(
  event: WebhookEventDoc,
  endpointId: string,
  initial: { status: DeliveryStatus; end_reason?: string },
  now = new Date(),
): WebhookDeliveryDoc {
  const supersede = supersedeOrder(event);
  return {
    delivery_id: deliveryId(event.event_id, endpointId),
    event_id: event.event_id,
    endpoint_id: endpointId,
    instance_id: event.instance_id,
    event_type: event.event_type,
    status: initial.status,
    attempts: 0,
    created_at: event.created_at,
    updated_at: now,
    ...(supersede ? { supersede_key: supersede.key, supersede_rank: supersede.rank } : {}),
    ...(initial.status === 'dead_lettered' ? { dead_lettered_at: now } : {}),
    ...(initial.end_reason ? { end_reason: initial.end_reason } : {}),
  };
}

/** Creates the record unless it exists; returns the stored one either way. */
export async function ensureDelivery(
  db: Db,
  event: WebhookEventDoc,
  endpointId: string,
  initial: { status: DeliveryStatus; end_reason?: string },
  now = new Date(),
): Promise<{ delivery: WebhookDeliveryDoc; created: boolean }> {
  const doc = newDeliveryDoc(event, endpointId, initial, now);
  const outcome = await batchedWriter<WebhookDeliveryDoc & { _id: string }>(
    db,
    collectionNames.webhookDeliveries,
  ).insert({ _id: doc.delivery_id, ...doc });
  if (outcome === 'done') return { delivery: doc, created: true };
  const existing = await findDelivery(db, doc.delivery_id);
  if (!existing) throw new Error(`delivery ${doc.delivery_id} refused as a duplicate but not found`);
  return { delivery: existing, created: false };
}

export function findDelivery(db: Db, id: string): Promise<WebhookDeliveryDoc | null> {
  return webhookDeliveries(db).findOne({ _id: id }, { projection: { _id: 0 } });
}

/** The record once it has ended, or as it is after `timeoutMs` (a test send waits for its one try). */
export async function waitForDeliveryEnd(
  db: Db,
  id: string,
  timeoutMs: number,
): Promise<WebhookDeliveryDoc | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const delivery = await findDelivery(db, id);
    if (!delivery || terminalStatuses.includes(delivery.status) || Date.now() >= deadline) return delivery;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The delivery's workflow ends it (the only writer of this record). */
export async function endDelivery(
  db: Db,
  id: string,
  status: DeliveryStatus,
  reason: string | undefined,
  now: Date,
): Promise<void> {
  const set: Partial<WebhookDeliveryDoc> = { status, updated_at: now };
  if (reason) set.end_reason = reason;
  if (status === 'dead_lettered') set.dead_lettered_at = now;
  if (status === 'delivered') set.delivered_at = now;
  await webhookDeliveries(db).updateOne({ _id: id }, { $set: set });
}

export interface DeliveryQuery {
  instance_id?: string;
  endpoint_id?: string;
  event_ids?: string[];
  statuses?: DeliveryStatus[];
  event_types?: WebhookEventType[];
  since?: Date;
  until?: Date;
  /** Dead-lettered at or after this time (what an endpoint missed while failing). */
  dead_lettered_since?: Date;
  limit: number;
}

/** Deliveries by status and event time, oldest first (replays go out in the order events happened). */
export async function findDeliveries(db: Db, query: DeliveryQuery): Promise<WebhookDeliveryDoc[]> {
  const filter: Filter<WebhookDeliveryDoc & { _id: string }> = {};
  if (query.instance_id) filter.instance_id = query.instance_id;
  if (query.endpoint_id) filter.endpoint_id = query.endpoint_id;
  if (query.event_ids) filter.event_id = { $in: query.event_ids };
  if (query.statuses) filter.status = { $in: query.statuses };
  if (query.event_types) filter.event_type = { $in: query.event_types };
  if (query.since || query.until) {
    filter.created_at = {
      ...(query.since ? { $gte: query.since } : {}),
      ...(query.until ? { $lte: query.until } : {}),
    };
  }
  if (query.dead_lettered_since) filter.dead_lettered_at = { $gte: query.dead_lettered_since };
  return webhookDeliveries(db)
    .find(filter, { projection: { _id: 0 } })
    .sort({ created_at: 1 })
    .limit(query.limit)
    .toArray();
}

export function publicDelivery(doc: WebhookDeliveryDoc) {
  return {
    delivery_id: doc.delivery_id,
    event_id: doc.event_id,
    event: doc.event_type,
    endpoint_id: doc.endpoint_id,
    instance_id: doc.instance_id,
    status: doc.status,
    attempts: doc.attempts,
    created_at: doc.created_at.toISOString(),
    last_attempt_at: doc.last_attempt_at?.toISOString() ?? null,
    last_status_code: doc.last_status_code ?? null,
    last_error: doc.last_error ?? null,
    delivered_at: doc.delivered_at?.toISOString() ?? null,
    dead_lettered_at: doc.dead_lettered_at?.toISOString() ?? null,
    end_reason: doc.end_reason ?? null,
  };
}
