import type { Db } from 'mongodb';
import { batchedWriter } from '../mongo/batched-writes';
import { collectionNames } from '../mongo/collections';
import type { RetrySchedule } from './backoff';

// The deliveries still to be sent, one entry per delivery, each carrying what its sender needs (the
// exact body, the schedule, where it is in its retries) so that sending reads nothing else. A
// publisher inserts the entry; from then on only the drain of its endpoint writes it (moves its next
// try, removes it when the delivery ends). The delivery record in `webhook_deliveries` is the history
// operators read; this collection only ever holds what is still on its way.

export interface QueueEntryDoc {
  /** The delivery id: one entry per (event, endpoint). */
  _id: string;
  endpoint_key: string;
  instance_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  body: string;
  schedule: RetrySchedule;
  /** When this round of tries began: the retry window counts from here (a replay starts a new one). */
  enqueued_at: Date;
  due_at: Date;
  /** How many times the delivery was replayed: attempts of a replay are logged apart. */
  generation: number;
  /** HTTP attempts in this round. */
  attempts: number;
  supersede_key?: string;
  supersede_rank?: number;
}

export interface EndpointRef {
  instance_id: string;
  endpoint_id: string;
}

/** One string per endpoint (endpoint ids are unique within an instance only). */
export function endpointKey(endpoint: EndpointRef): string {
  return `${endpoint.instance_id}\n${endpoint.endpoint_id}`;
}

export function webhookQueue(db: Db) {
  return db.collection<QueueEntryDoc>(collectionNames.webhookQueue);
}

const queueWriter = (db: Db) => batchedWriter<QueueEntryDoc>(db, collectionNames.webhookQueue);

/** `duplicate`: the delivery is already queued (a repeated publish or replay). */
export function enqueue(db: Db, entry: QueueEntryDoc) {
  return queueWriter(db).insert(entry);
}

/** Everything queued for one endpoint, due or not. */
export function entriesOf(db: Db, key: string): Promise<QueueEntryDoc[]> {
  return webhookQueue(db).find({ endpoint_key: key }).toArray();
}

/**
 * Entries queued for these endpoints (the drains running in one process), or for all of them, due
 * between `since` and `now`: what other processes queued lately. Ids only, since a drain usually has
 * the entry already; its own retries it knows.
 */
export function recentlyDueIds(
  db: Db,
  keys: string[] | 'every endpoint',
  since: Date,
  now: Date,
  limit = 5_000,
): Promise<Array<Pick<QueueEntryDoc, '_id' | 'endpoint_key' | 'generation'>>> {
  return webhookQueue(db)
    .find(
      {
        ...(keys === 'every endpoint' ? {} : { endpoint_key: { $in: keys } }),
        due_at: { $gte: since, $lte: now },
      },
      { projection: { _id: 1, endpoint_key: 1, generation: 1 } },
    )
    .limit(limit)
    .toArray();
}

export function entriesById(db: Db, ids: string[]): Promise<QueueEntryDoc[]> {
  return webhookQueue(db)
    .find({ _id: { $in: ids } })
    .toArray();
}

export function findEntry(db: Db, deliveryId: string): Promise<QueueEntryDoc | null> {
  return webhookQueue(db).findOne({ _id: deliveryId });
}

/** Entries queued before `before` (what the maintenance sweep checks for a lost wake). */
export function entriesQueuedBefore(db: Db, before: Date, limit: number): Promise<QueueEntryDoc[]> {
  return webhookQueue(db)
    .find({ due_at: { $lt: before } })
    .limit(limit)
    .toArray();
}

export async function reschedule(db: Db, id: string, change: { due_at: Date; attempts: number }) {
  await queueWriter(db).write({ updateOne: { filter: { _id: id }, update: { $set: change } } });
}

/**
 * An operator's "send it now": the entry's next try moved to `now` (if it was later). The one write
 * to an entry not made by its drain, and a harmless one: an awake drain goes by its own copy (and its
 * next write of the entry sets the time it chose), and the next drain reads this one, so the caller
 * forces a wake after it. Returns whether the entry was moved.
 */
export async function bringForward(db: Db, id: string, now: Date): Promise<boolean> {
  const result = await webhookQueue(db).updateOne(
    { _id: id, due_at: { $gt: now } },
    { $set: { due_at: now } },
  );
  return result.modifiedCount === 1;
}

export async function dequeue(db: Db, id: string) {
  await queueWriter(db).write({ deleteOne: { filter: { _id: id } } });
}
