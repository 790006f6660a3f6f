import type { Db } from 'mongodb';
import { batchedWriter } from '../../mongo/batched-writes';
import { collectionNames } from '../../mongo/collections';
import { type WebhookAttemptDoc, webhookAttempts } from '../attempts';
import type { DeliveryStatus, WebhookDeliveryDoc } from '../deliveries';
import { dequeue, type QueueEntryDoc, reschedule } from '../queue';

// What a drain writes after each attempt, batched with every other drain's writes in the process:
// the attempt log entry, the delivery record (for operators), then the queue entry (moved to its
// next try, or removed). In that order, so a crash in between resends rather than forgets.

export type AttemptRecord = WebhookAttemptDoc;

export interface AttemptOutcome {
  status: Extract<DeliveryStatus, 'pending' | 'delivered' | 'gone' | 'dead_lettered' | 'failed'>;
  now: Date;
  statusCode?: number;
  error?: string;
  /** Why the delivery ended, when it did. */
  reason?: string;
  /** Its next try, when it stays queued. */
  retryAt?: Date;
}

type DeliveryRecord = WebhookDeliveryDoc & { _id: string };

/** How long an attempt's log entry waits for others to share its command. */
const attemptLogLingerMs = 15;

export interface DrainWrites {
  attempted(entry: QueueEntryDoc, record: AttemptRecord, outcome: AttemptOutcome): Promise<void>;
  ended(entry: QueueEntryDoc, status: DeliveryStatus, reason: string): Promise<void>;
  /** Resolves once every write started so far has finished. */
  flushed(): Promise<void>;
}

/**
 * A publish writes the delivery record and the queue entry at once, so a fast drain may get there
 * first: its write makes the record (these fields), and the publisher's insert then finds it.
 */
function recordBase(entry: QueueEntryDoc) {
  return {
    delivery_id: entry._id,
    event_id: entry.event_id,
    endpoint_id: entry.endpoint_id,
    instance_id: entry.instance_id,
    event_type: entry.event_type as WebhookDeliveryDoc['event_type'],
    created_at: entry.enqueued_at,
  };
}

export function drainWrites(db: Db): DrainWrites {
  // The attempt log starts each outcome's writes, after the request: nobody waits for it but the
  // drain's own bookkeeping, so it lingers to gather more per command. The outcomes of one such
  // batch then go on together (one record update, one queue command for them all), so every stage
  // is batched alike, and the record is written, as before, just before the entry leaves the queue.
  const attempts = batchedWriter<WebhookAttemptDoc & { _id: string }>(db, collectionNames.webhookAttempts, {
    lingerMs: attemptLogLingerMs,
  });
  const deliveries = batchedWriter<DeliveryRecord>(db, collectionNames.webhookDeliveries);
  const pending = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    pending.add(work);
    void work.then(
      () => pending.delete(work),
      () => pending.delete(work),
    );
    return work;
  };

  const logAttempt = async (record: AttemptRecord) => {
    const doc = { _id: record.attempt_key, ...record };
    // The same attempt written twice (a drain lost after writing it): the later one stands.
    if ((await attempts.insert(doc)) === 'duplicate')
      await webhookAttempts(db).replaceOne({ _id: doc._id }, doc);
  };

  return {
    attempted(entry, record, outcome) {
      const { status, now } = outcome;
      const set: Partial<WebhookDeliveryDoc> = {
        status,
        updated_at: now,
        last_attempt_at: now,
        ...(outcome.statusCode !== undefined ? { last_status_code: outcome.statusCode } : {}),
        ...(status === 'delivered' ? { delivered_at: now } : {}),
        ...(status === 'dead_lettered' ? { dead_lettered_at: now } : {}),
        ...(outcome.reason ? { end_reason: outcome.reason } : {}),
        ...(outcome.error ? { last_error: outcome.error } : {}),
        // Retrying: when (operators list by it); any other outcome ends the round.
        ...(status === 'pending' && outcome.retryAt ? { next_attempt_at: outcome.retryAt } : {}),
      };
      const unset = {
        ...(outcome.error ? {} : { last_error: '' as const }),
        ...(status === 'pending' ? {} : { next_attempt_at: '' as const }),
      };
      const update = {
        $set: set,
        ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
        $inc: { attempts: 1 },
        $setOnInsert: recordBase(entry),
      };
      return track(
        (async () => {
          await logAttempt(record);
          await deliveries.write({ updateOne: { filter: { _id: entry._id }, update, upsert: true } });
          if (status === 'pending')
            await reschedule(db, entry._id, { due_at: outcome.retryAt!, attempts: entry.attempts });
          else await dequeue(db, entry._id);
        })(),
      );
    },

    ended(entry, status, reason) {
      const now = new Date();
      const set: Partial<WebhookDeliveryDoc> = {
        status,
        updated_at: now,
        end_reason: reason,
        ...(status === 'dead_lettered' ? { dead_lettered_at: now } : {}),
      };
      return track(
        (async () => {
          await deliveries.write({
            updateOne: {
              filter: { _id: entry._id },
              update: {
                $set: set,
                $unset: { next_attempt_at: '' },
                $setOnInsert: { ...recordBase(entry), attempts: 0 },
              },
              upsert: true,
            },
          });
          await dequeue(db, entry._id);
        })(),
      );
    },

    async flushed() {
      await Promise.allSettled([...pending]);
    },
  };
}
