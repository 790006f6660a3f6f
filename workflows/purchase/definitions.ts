import { defineQuery, defineSignal } from '@temporalio/workflow';

// Names and shapes shared by the purchase workflow and the code that signals and queries it.

export type PurchaseStatus =
  | 'pending'
  | 'paid'
  | 'fulfilled'
  | 'expired'
  | 'failed'
  | 'refunded'
  | 'disputed';

export type PurchaseFlow = 'checkout' | 'payment_intent';

/** What the workflow needs to know about a purchase: written once by the API, before the workflow. */
export interface PurchaseTerms {
  purchase_id: string;
  instance_id: string;
  user_id: string;
  user_email: string;
  package_id: string;
  credit_type: string;
  /** Credits granted on payment, bonus included. */
  credits: number;
  amount: number;
  /** Upper-case ISO code, as the contract writes it. */
  currency: string;
  flow: PurchaseFlow;
  stripe_checkout_session_id?: string;
  stripe_payment_intent_id?: string;
  created_at: string;
  /** When the buyer's chance to pay ends (the Checkout Session's expiry, or the intent's deadline). */
  pay_by: string;
}

/** One Stripe event for this purchase, reduced to ids: the workflow reads the truth back from Stripe. */
export interface StripeEventSignal {
  event_id: string;
  type: string;
  checkout_session_id?: string | null;
  payment_intent_id?: string | null;
  charge_id?: string | null;
  dispute_id?: string | null;
}

export interface PurchaseView {
  purchase_id: string;
  status: PurchaseStatus;
  credit_type: string;
  credits: number;
  amount: number;
  currency: string;
  created_at: string;
  fulfilled_at?: string;
  credits_added?: number;
  /** The grant as it was made; never changes after, so verify answers the same every time. */
  granted?: { transaction_id: string; balances: Record<string, number> };
  /** The current balances as this purchase last changed them (a refund moves them). */
  balances?: Record<string, number>;
  /** The latest recheck read back from Stripe, so a caller waiting on its own recheck knows. */
  last_check?: { event_id: string; outcome: PaymentCheck['outcome'] };
  refunded_amount?: number;
  credits_clawed_back?: number;
  dispute?: { id: string; status: 'open' | 'won' | 'lost'; credits_held: number };
  failure_reason?: string;
  last_payment_error?: string;
  stripe_checkout_session_id?: string;
  stripe_payment_intent_id?: string;
  stripe_charge_id?: string;
}

export const stripeEventSignal = defineSignal<[StripeEventSignal]>('stripeEvent');
export const purchaseViewQuery = defineQuery<PurchaseView>('purchaseView');

export const purchaseWorkflowId = (purchaseId: string) => `purchase:${purchaseId}`;

/** Events that can decide a payment; each only makes the workflow read Stripe again. */
export const paymentEventTypes = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'checkout.session.expired',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  /** Not from Stripe: reconciliation or `payments/confirm` asking the workflow to check now. */
  'recheck',
] as const;

/** Events that can only follow a payment. */
export const afterSaleEventTypes = [
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.closed',
] as const;

/** Stripe events the purchase workflow acts on; others are acknowledged and ignored. */
export const purchaseEventTypes = [...paymentEventTypes, ...afterSaleEventTypes];

/** Result of reading a payment back from Stripe. */
export interface PaymentCheck {
  outcome: 'paid' | 'pending' | 'failed' | 'expired' | 'mismatch';
  payment_intent_id?: string;
  charge_id?: string;
  detail?: string;
}

export interface PurchaseWorkflowInput {
  purchase_id: string;
  /** How long after the deadline to wait for late events before asking Stripe (default 10 minutes). */
  deadline_grace_ms?: number;
  /** How long refunds and disputes are followed after fulfilment (default 180 days). */
  after_sale_ms?: number;
}
