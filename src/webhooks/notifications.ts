import type { Db } from 'mongodb';
import { collectionNames } from '../mongo/collections';
import { isDuplicateKeyError } from '../mongo/errors';

// Things an operator (or an instance's admin) must hear about. Email is not sent from here: a record
// with `channel: 'email'` and `status: 'queued'` is the message to send, for whatever mailer runs.

export interface OperatorNotificationDoc {
  /** One notification per cause, however many workers notice it. */
  dedupe_key: string;
  kind: 'webhook_endpoint_disabled';
  channel: 'operator' | 'email';
  status: 'open' | 'queued';
  to?: string;
  subject: string;
  message: string;
  instance_id: string;
  endpoint_id?: string;
  created_at: Date;
}

export function operatorNotifications(db: Db) {
  return db.collection<OperatorNotificationDoc>(collectionNames.operatorNotifications);
}

/** Inserts once; true if this call raised it. */
export async function raiseNotification(db: Db, doc: OperatorNotificationDoc): Promise<boolean> {
  try {
    await operatorNotifications(db).insertOne({ ...doc });
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

export async function listNotifications(db: Db, query: { instance_id?: string; limit: number }) {
  const docs = await operatorNotifications(db)
    .find(query.instance_id ? { instance_id: query.instance_id } : {}, { projection: { _id: 0 } })
    .sort({ created_at: -1 })
    .limit(query.limit)
    .toArray();
  return docs.map((doc) => ({ ...doc, created_at: doc.created_at.toISOString() }));
}
