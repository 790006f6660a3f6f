import type { Db } from 'mongodb';
import { observePurchaseSaved } from '../metrics';
import { collectionNames } from '../mongo/collections';
import { isDuplicateKeyError } from '../mongo/errors';
import {
  allOf,
  descendingAfter,
  type KeysetPage,
  type KeysetRequest,
  readPage,
  timeRange,
} from '../mongo/keyset';
import { emailMatch } from '../mongo/text-match';
import type { PurchaseTerms, PurchaseView } from './model';

/**
 * A purchase as stored: the terms, written once by the API when the buyer starts paying, and the
 * outcome, written only by the purchase's workflow (single writer, so plain `$set` is safe).
 */
export interface PurchaseDoc extends PurchaseTerms {
  checkout_url?: string;
  /** The API request that began the purchase (its log lines carry the same id). */
  request_id?: string;
  payment_intent_client_secret_issued?: boolean;
  outcome?: PurchaseView;
  status: PurchaseView['status'];
  updated_at: Date;
}

/**
 * Records written by earlier versions also hold `request_hash` (a hash of the request nothing read):
 * reads leave it out, so that they answer as they did.
 */
const shown = { _id: 0, request_hash: 0 } as const;

export function purchases(db: Db) {
  return db.collection<PurchaseDoc>(collectionNames.purchases);
}

/** Inserts the purchase; false if this purchase id already exists (a retried request). */
export async function insertPurchase(db: Db, doc: PurchaseDoc): Promise<boolean> {
  try {
    await purchases(db).insertOne({ ...doc });
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

export function findPurchase(db: Db, purchaseId: string) {
  return purchases(db).findOne({ purchase_id: purchaseId }, { projection: shown });
}

export function findPurchaseByStripeId(
  db: Db,
  field: 'stripe_checkout_session_id' | 'stripe_payment_intent_id',
  id: string,
) {
  return purchases(db).findOne({ [field]: id }, { projection: shown });
}

/** Records the Stripe object made for the purchase (the API does this once, before the workflow). */
export async function attachStripeObject(
  db: Db,
  purchaseId: string,
  set: Partial<
    Pick<PurchaseDoc, 'stripe_checkout_session_id' | 'stripe_payment_intent_id' | 'checkout_url' | 'pay_by'>
  >,
) {
  await purchases(db).updateOne({ purchase_id: purchaseId }, { $set: { ...set, updated_at: new Date() } });
}

/** The workflow's record of the outcome (a change of status is counted: src/metrics.ts). */
export async function saveOutcome(db: Db, view: PurchaseView) {
  const before = await purchases(db).findOneAndUpdate(
    { purchase_id: view.purchase_id },
    {
      $set: {
        outcome: view,
        status: view.status,
        updated_at: new Date(),
        ...(view.stripe_checkout_session_id
          ? { stripe_checkout_session_id: view.stripe_checkout_session_id }
          : {}),
        ...(view.stripe_payment_intent_id ? { stripe_payment_intent_id: view.stripe_payment_intent_id } : {}),
      },
    },
    { projection: { _id: 0, status: 1, 'outcome.fulfilled_at': 1 }, returnDocument: 'before' },
  );
  observePurchaseSaved(
    before && { status: before.status, fulfilled: before.outcome?.fulfilled_at !== undefined },
    view,
  );
}

export interface PurchaseFilter {
  instance_id?: string;
  /** Matched trimmed and in any case (mongo/text-match.ts). */
  user_email?: string;
  status?: string;
  /** created_at from (inclusive) and until (exclusive). */
  since?: Date;
  until?: Date;
}

const listOrder = ['created_at', 'purchase_id'];

/**
 * Purchases newest first, a page at a time (mongo/keyset.ts; the key is created_at, an ISO string as
 * begin.ts writes it, and the purchase id).
 */
export async function listPurchases(
  db: Db,
  filter: PurchaseFilter,
  page: KeysetRequest,
): Promise<KeysetPage<PurchaseDoc>> {
  const query = allOf(
    filter.instance_id !== undefined ? { instance_id: filter.instance_id } : undefined,
    filter.user_email !== undefined ? { user_email: emailMatch(filter.user_email) } : undefined,
    filter.status !== undefined ? { status: filter.status } : undefined,
    timeRange('created_at', filter, (at) => at.toISOString()),
    descendingAfter(listOrder, page.after),
  );
  return readPage(purchases(db).find(query, { projection: shown }), listOrder, page, (doc) => [
    doc.created_at,
    doc.purchase_id,
  ]);
}
