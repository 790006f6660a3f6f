import type { Db } from 'mongodb';
import { collectionNames } from '../mongo/collections';
import type { WebhookDeliveryDoc } from './deliveries';

// The earlier engine's superseding, for its per-delivery workflows still running: each publish raised
// a mark holding the highest `ledger_seq` per (endpoint, user), and a delivery below the mark when its
// turn came ended as `superseded`. The per-endpoint drains decide this from their own queue instead
// (drain/supersede-memory.ts), so nothing raises marks any more; the old ones are still read.

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

/** True when a newer event for the same (endpoint, user) has been published. */
export async function isSuperseded(db: Db, delivery: Ranked): Promise<boolean> {
  const id = markId(delivery);
  if (id === undefined) return false;
  const mark = await marks(db).findOne({ _id: id });
  return mark !== null && mark.rank > delivery.supersede_rank!;
}
