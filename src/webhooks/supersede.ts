import type { Db } from 'mongodb';
import { collectionNames } from '../mongo/collections';
import { isDuplicateKeyError } from '../mongo/errors';
import type { WebhookDeliveryDoc } from './deliveries';

// A `credits_updated` carries the user's whole balance and its `ledger_seq`, so for one (endpoint,
// user) only the newest needs to arrive. Each new delivery raises a mark holding the highest sequence
// published there; a delivery whose sequence is below the mark when its turn comes (a backlogged site,
// a retry) ends as `superseded` instead of being sent. The mark is looked up by `_id`, which every
// MongoDB-wire server finds without a scan.

interface SupersedeMarkDoc {
  _id: string;
  rank: number;
  updated_at: Date;
}

type Ranked = Pick<WebhookDeliveryDoc, 'instance_id' | 'endpoint_id' | 'supersede_key' | 'supersede_rank'>;

function marks(db: Db) {
  return db.collection<SupersedeMarkDoc>(collectionNames.webhookSupersedeMarks);
}

function markId(delivery: Ranked): string | undefined {
  if (delivery.supersede_key === undefined || delivery.supersede_rank === undefined) return undefined;
  return `${delivery.instance_id}\n${delivery.endpoint_id}\n${delivery.supersede_key}`;
}

/**
 * Raises the mark to this delivery's rank ($max never lowers it). Two publishes racing on a server
 * without atomic updates may leave the lower rank: that only means an older event is sent too, which
 * receivers ignore by ledger_seq; it never drops the newest.
 */
export async function markLatest(db: Db, delivery: Ranked): Promise<void> {
  const id = markId(delivery);
  if (id === undefined) return;
  const update = { $max: { rank: delivery.supersede_rank! }, $set: { updated_at: new Date() } };
  try {
    await marks(db).updateOne({ _id: id }, update, { upsert: true });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    await marks(db).updateOne({ _id: id }, update);
  }
}

/** True when a newer event for the same (endpoint, user) has been published. */
export async function isSuperseded(db: Db, delivery: Ranked): Promise<boolean> {
  const id = markId(delivery);
  if (id === undefined) return false;
  const mark = await marks(db).findOne({ _id: id });
  return mark !== null && mark.rank > delivery.supersede_rank!;
}
