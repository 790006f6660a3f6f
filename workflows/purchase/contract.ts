import type { PurchaseView } from '../../src/purchases/model';

// The purchase workflow's contract: what the API, reconciliation, activities and the worker need to
// know about it, with no runtime imports (workflow.ts defines the signal and query from these names).

export const purchaseWorkflowType = 'purchaseWorkflow';

/** From the purchase: every start and every Stripe event for one purchase meets the same run. */
export const purchaseWorkflowId = (purchaseId: string) => `purchase:${purchaseId}`;

/** The line Temporal UI shows for a run: what is bought, or which Stripe news started it. */
export function purchaseSummary(
  purchaseId: string,
  what: { credits: number; credit_type: string; amount: number; currency: string } | { stripe_event: string },
): string {
  return 'stripe_event' in what
    ? `Purchase ${purchaseId}: ${what.stripe_event} from Stripe`
    : `Purchase ${purchaseId}: ${what.credits} ${what.credit_type} credits for ${what.amount} ${what.currency}`;
}

export interface PurchaseWorkflowInput {
  purchase_id: string;
  /** How long after the deadline to wait for late events before asking Stripe (default 10 minutes). */
  deadline_grace_ms?: number;
  /** How long refunds and disputes are followed after fulfilment (default 180 days). */
  after_sale_ms?: number;
  /** A read of Stripe running this long marks the purchase `stripe_unreachable` (default 30 s). */
  slow_stripe_read_ms?: number;
}

export type PurchaseWorkflowResult = PurchaseView;

/** One Stripe event for this purchase, reduced to ids: the workflow reads the truth back from Stripe. */
export interface StripeEventSignal {
  event_id: string;
  type: string;
  checkout_session_id?: string | null;
  payment_intent_id?: string | null;
  charge_id?: string | null;
  dispute_id?: string | null;
}

export const stripeEventSignalName = 'stripeEvent';
export const purchaseViewQueryName = 'purchaseView';

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

/** Errors the purchase activities raise that retrying cannot mend: they end the purchase visibly. */
export const purchaseFailures = {
  /** The purchase record the workflow was started for does not exist. */
  notFound: 'PurchaseNotFound',
  /** Stripe refused a request for good (a bad request, an unknown object, Stripe not configured). */
  stripeRejected: 'StripeRejected',
  /** The deadline passed, the payment was closed, and Stripe still says it is open. */
  undecided: 'PaymentUndecided',
  /** The run's own end for a purchase whose payment failed (or did not match the price). */
  failed: 'PurchaseFailed',
  /** The run's own end for a purchase nobody paid in time. */
  expired: 'PurchaseExpired',
} as const;

/**
 * Behaviour changes to the workflow, each behind `patched(id)` so that runs started before replay
 * the old path (see README, "Changing a workflow safely").
 */
export const purchasePatches = {
  /**
   * The run completes at fulfilment (fails when the payment failed or expired) instead of staying
   * open 180 days; later refunds and disputes start a new run; the status reason is published;
   * timers and activities carry summaries.
   */
  completeWhenFinal: 'purchase-complete-when-final',
  /**
   * A `charge.dispute.closed` that arrives before its `charge.dispute.created` holds and settles the
   * dispute at once (before: it was ignored, and the run held the credits and waited for a close it
   * had already seen).
   */
  disputeClosedFirst: 'purchase-dispute-closed-first',
} as const;
