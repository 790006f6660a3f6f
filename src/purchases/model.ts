// The purchase as the rest of the backend sees it: its terms (written once, before its workflow
// starts), its status and the view its workflow keeps. Types and one list only, so workflow code,
// activities, routes and the store share them without importing each other.

export const purchaseStatuses = [
  'pending',
  'paid',
  'fulfilled',
  'expired',
  'failed',
  'refunded',
  'disputed',
] as const;
export type PurchaseStatus = (typeof purchaseStatuses)[number];

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
  /** Why a purchase that is not settled yet waits (or why it failed): see statusReasons. */
  status_reason?: StatusReason;
  /** When the current reason began (workflow time, ISO), e.g. since when Stripe has not answered. */
  status_reason_since?: string;
}

/**
 * Why a purchase is where it is, for operators (the API's `status_reason`, Temporal's
 * `RakubunStatusReason`): `awaiting_payment` (the buyer has not paid), `processing_at_stripe` (paid
 * by a method that settles later: konbini, bank transfer), `stripe_unreachable` (reading Stripe has
 * failed for a while and is being retried), `amount_mismatch` (Stripe took another amount than the
 * package costs: never credited), `payment_failed`, `expired`, and `follows_dispute` (a dispute is
 * open: its run waits for it to close).
 */
export const statusReasons = [
  'awaiting_payment',
  'processing_at_stripe',
  'stripe_unreachable',
  'amount_mismatch',
  'payment_failed',
  'expired',
  'follows_dispute',
] as const;
export type StatusReason = (typeof statusReasons)[number];

/** Result of reading a payment back from Stripe. */
export interface PaymentCheck {
  outcome: 'paid' | 'pending' | 'failed' | 'expired' | 'mismatch';
  /** The PaymentIntent's own status when it is still pending (`processing`: it settles later). */
  stripe_status?: string;
  payment_intent_id?: string;
  charge_id?: string;
  detail?: string;
}
