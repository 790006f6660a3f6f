import { createHash, randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { batchedWriter } from '../mongo/batched-writes';
import { collectionNames } from '../mongo/collections';
import type { WebhookEventType } from './catalogue';

export interface WebhookEventDoc {
  event_id: string;
  instance_id: string;
  event_type: WebhookEventType;
  data: Record<string, unknown>;
  /** The exact bytes every attempt sends, fixed at creation so retries are byte-identical. */
  body: string;
  created_at: Date;
  /** What the publisher said makes this event unique (a ledger entry, a broadcast and instance...). */
  idempotency_key?: string;
}

/** `_id` is the event id (see collections.ts). */
export function webhookEvents(db: Db) {
  return db.collection<WebhookEventDoc & { _id: string }>(collectionNames.webhookEvents);
}

/**
 * A random id, or one derived from the caller's idempotency key so that a retried publish (an activity
 * run twice, a broadcast batch redone) lands on the event it already stored.
 */
export function newEventId(instanceId: string, idempotencyKey?: string): string {
  if (idempotencyKey === undefined) return `evt_${randomBytes(16).toString('hex')}`;
  const digest = createHash('sha256').update(`${instanceId}\n${idempotencyKey}`).digest('hex');
  return `evt_${digest.slice(0, 32)}`;
}

/**
 * The body as the contract defines it: `{"id","event","timestamp","created_at","instance_id","data"}`
 * (`timestamp` is the name the plugin's original dashboard used; both are the event's creation time).
 */
export function eventBody(event: Omit<WebhookEventDoc, 'body'>): string {
  return JSON.stringify({
    id: event.event_id,
    event: event.event_type,
    timestamp: event.created_at.toISOString(),
    created_at: event.created_at.toISOString(),
    instance_id: event.instance_id,
    data: event.data,
  });
}

export interface NewEvent {
  instance_id: string;
  event_type: WebhookEventType;
  data: Record<string, unknown>;
  idempotency_key?: string;
}

/** An idempotency key already used for another instance or event type: a bug in the caller. */
export class IdempotencyKeyReusedError extends Error {
  override name = 'IdempotencyKeyReusedError';
}

/** The event as it will be stored (its id derived from the idempotency key, if any). */
export function newEventDoc(event: NewEvent, now = new Date()): WebhookEventDoc {
  const base = {
    event_id: newEventId(event.instance_id, event.idempotency_key),
    instance_id: event.instance_id,
    event_type: event.event_type,
    data: event.data,
    created_at: now,
    ...(event.idempotency_key === undefined ? {} : { idempotency_key: event.idempotency_key }),
  };
  return { ...base, body: eventBody(base) };
}

/** Stores the event once; a second call with the same idempotency key returns the first event. */
export async function storeEvent(
  db: Db,
  event: NewEvent | WebhookEventDoc,
  now = new Date(),
): Promise<{ event: WebhookEventDoc; created: boolean }> {
  const doc = 'body' in event ? event : newEventDoc(event, now);
  // Batched with concurrent publishes (one insert command for many events under load).
  const outcome = await batchedWriter<WebhookEventDoc & { _id: string }>(
    db,
    collectionNames.webhookEvents,
  ).insert({
    _id: doc.event_id,
    ...doc,
  });
  if (outcome === 'done') return { event: doc, created: true };
  const existing = await findEvent(db, doc.event_id);
  if (!existing || existing.instance_id !== doc.instance_id || existing.event_type !== doc.event_type) {
    throw new IdempotencyKeyReusedError(`idempotency key reused for a different event (${doc.event_id})`);
  }
  return { event: existing, created: false };
}

export function findEvent(db: Db, eventId: string): Promise<WebhookEventDoc | null> {
  return webhookEvents(db).findOne({ _id: eventId }, { projection: { _id: 0 } });
}
