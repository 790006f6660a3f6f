import type { Db } from 'mongodb';
import { fingerprint } from '../ledger/ids';
import { collectionNames, isDuplicateKeyError } from '../mongo/collections';

/** One generation a plugin reports (what it made, for whom, how many credits it used). */
export interface GenerationEventInput {
  event_id?: string;
  user_id: string | number;
  user_email: string;
  credit_type: string;
  credits_used: number;
  metadata?: Record<string, unknown>;
  /** When it happened (ISO time); part of the derived key, so resends keep it. */
  timestamp?: string;
}

interface GenerationEventDocument {
  instance_id: string;
  event_key: string;
  event_id?: string;
  user_id: string;
  user_email: string;
  credit_type: string;
  credits_used: number;
  metadata: Record<string, unknown>;
  occurred_at: Date;
  received_at: Date;
}

/**
 * The unique key of an event within its instance: the client's `event_id`, or else a hash of what
 * the event says, so the same event sent again in a retried batch is recognised. Two events that say
 * exactly the same thing with no id and no timestamp count as one.
 */
export function eventKey(instanceId: string, event: GenerationEventInput): string {
  if (event.event_id) return `id:${event.event_id}`;
  return `sha256:${fingerprint({
    instance_id: instanceId,
    user_id: String(event.user_id),
    credit_type: event.credit_type,
    credits_used: event.credits_used,
    timestamp: event.timestamp ?? null,
    metadata: event.metadata ?? {},
  })}`;
}

/** Stores the events not stored before; returns how many were new. */
export async function recordGenerationEvents(
  db: Db,
  instanceId: string,
  events: readonly GenerationEventInput[],
  now: Date = new Date(),
): Promise<number> {
  if (events.length === 0) return 0;
  const documents: GenerationEventDocument[] = events.map((event) => ({
    instance_id: instanceId,
    event_key: eventKey(instanceId, event),
    ...(event.event_id ? { event_id: event.event_id } : {}),
    user_id: String(event.user_id),
    user_email: event.user_email,
    credit_type: event.credit_type,
    credits_used: event.credits_used,
    metadata: event.metadata ?? {},
    occurred_at: event.timestamp ? new Date(event.timestamp) : now,
    received_at: now,
  }));
  const collection = db.collection<GenerationEventDocument>(collectionNames.generationEvents);
  try {
    // Unordered: a duplicate stops only itself; the unique (instance, event_key) index refuses it.
    return (await collection.insertMany(documents, { ordered: false })).insertedCount;
  } catch (error) {
    const bulk = error as { insertedCount?: number; writeErrors?: unknown };
    const writeErrors = ([] as unknown[]).concat(bulk.writeErrors ?? []);
    const onlyDuplicates = writeErrors.length > 0 && writeErrors.every(isDuplicateKeyError);
    if (!onlyDuplicates || typeof bulk.insertedCount !== 'number') throw error;
    return bulk.insertedCount;
  }
}
