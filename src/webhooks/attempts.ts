import type { Db } from 'mongodb';
import { collectionNames } from '../mongo/collections';
import { isDuplicateKeyError } from '../mongo/errors';
import type { WebhookEventType } from './catalogue';

// Every HTTP attempt, as something a plugin author can be shown: when, where, what came back, how long
// it took, why it failed.

export type AttemptOutcome = 'delivered' | 'failed' | 'gone' | 'refused';

export interface WebhookAttemptDoc {
  /** `<workflow run>:<attempt>`: an activity retried after writing its record overwrites it. */
  attempt_key: string;
  delivery_id: string;
  event_id: string;
  event_type: WebhookEventType;
  endpoint_id: string;
  instance_id: string;
  /** 1-based, within the delivery's run (a replay starts at 1 again). */
  attempt: number;
  url: string;
  started_at: Date;
  latency_ms: number;
  outcome: AttemptOutcome;
  status_code?: number;
  /** The first 2 KB of the answer. */
  response_body?: string;
  error?: string;
}

/** `_id` is the attempt key (see collections.ts). */
export function webhookAttempts(db: Db) {
  return db.collection<WebhookAttemptDoc & { _id: string }>(collectionNames.webhookAttempts);
}

/** An insert (cheap on every server); only a retried activity's second write replaces the first. */
export async function recordAttempt(db: Db, attempt: WebhookAttemptDoc): Promise<void> {
  const doc = { _id: attempt.attempt_key, ...attempt };
  try {
    await webhookAttempts(db).insertOne(doc);
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    await webhookAttempts(db).replaceOne({ _id: doc._id }, doc);
  }
}

export async function listAttempts(
  db: Db,
  query: { instance_id: string; endpoint_id: string; event_id?: string; before?: Date; limit: number },
) {
  const docs = await webhookAttempts(db)
    .find(
      {
        instance_id: query.instance_id,
        endpoint_id: query.endpoint_id,
        ...(query.event_id ? { event_id: query.event_id } : {}),
        ...(query.before ? { started_at: { $lt: query.before } } : {}),
      },
      { projection: { _id: 0 } },
    )
    .sort({ started_at: -1 })
    .limit(query.limit)
    .toArray();
  return docs.map(publicAttempt);
}

export function publicAttempt(doc: WebhookAttemptDoc) {
  return {
    event_id: doc.event_id,
    event: doc.event_type,
    delivery_id: doc.delivery_id,
    attempt: doc.attempt,
    url: doc.url,
    started_at: doc.started_at.toISOString(),
    latency_ms: doc.latency_ms,
    outcome: doc.outcome,
    status_code: doc.status_code ?? null,
    response_body: doc.response_body ?? null,
    error: doc.error ?? null,
  };
}
