import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PurchaseActivities } from '../../activities/purchases';
import { creditsHeldForDispute } from '../../src/credits/rules';
import type {
  PaymentCheck,
  PurchaseStatus,
  PurchaseTerms,
  PurchaseView,
  StatusReason,
} from '../../src/purchases/model';
import {
  instanceIdAttribute,
  purchaseIdAttribute,
  purchaseStatusAttribute,
  statusReasonAttribute,
  stripePaymentIntentIdAttribute,
  stripeSessionIdAttribute,
  userEmailAttribute,
} from '../search-attributes';
import {
  afterSaleEventTypes,
  type PurchaseWorkflowInput,
  type PurchaseWorkflowResult,
  paymentEventTypes,
  purchaseFailures,
  purchasePatches,
  purchaseViewQueryName,
  type StripeEventSignal,
  stripeEventSignalName,
} from './contract';

export const stripeEventSignal = defineSignal<[StripeEventSignal]>(stripeEventSignalName);
export const purchaseViewQuery = defineQuery<PurchaseView>(purchaseViewQueryName);

// Activities retry until the outage ends (Stripe, MongoDB or the network); only a true rejection
// (named below) stops them, and those end the purchase in a state an operator can see.
const activities = proxyActivities<PurchaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [purchaseFailures.notFound, purchaseFailures.stripeRejected],
  },
});

const paymentEvents = new Set<string>(paymentEventTypes);
const afterSaleEvents = new Set<string>(afterSaleEventTypes);
const settledStatuses = new Set<PurchaseStatus>(['fulfilled', 'refunded', 'disputed']);

/** A read of Stripe still running after this long: the purchase says Stripe is not answering. */
const slowStripeReadMs = 30_000;

/**
 * One purchase from checkout to its single outcome: waits for Stripe's word, reads the payment back
 * from Stripe, grants the credits once (the purchase id is the ledger's idempotency key) and tells
 * the plugin. The run completes when the outcome is final (fulfilled), or fails (payment failed,
 * expired): Temporal UI shows the truth. A refund or dispute that comes later starts a new run of
 * the same workflow id (the Stripe webhook's signalWithStart), which starts from the saved view,
 * handles it, and completes (or waits while a dispute is open).
 *
 * Runs started before `purchasePatches.completeWhenFinal` keep the old shape: they stay open for
 * refunds and disputes for 180 days, and end completed whatever the outcome.
 */
export async function purchaseWorkflow(input: PurchaseWorkflowInput): Promise<PurchaseWorkflowResult> {
  const v1 = patched(purchasePatches.completeWhenFinal);
  const loaded = v1
    ? await activities.loadPurchase(input.purchase_id)
    : { terms: await activities.loadPurchaseTerms(input.purchase_id) };
  const { terms } = loaded;
  const view: PurchaseView = loaded.saved ?? {
    purchase_id: terms.purchase_id,
    status: 'pending',
    credit_type: terms.credit_type,
    credits: terms.credits,
    amount: terms.amount,
    currency: terms.currency,
    created_at: terms.created_at,
    stripe_checkout_session_id: terms.stripe_checkout_session_id,
    stripe_payment_intent_id: terms.stripe_payment_intent_id,
  };
  const seenEvents = new Set<string>();
  const inbox: StripeEventSignal[] = [];

  // Stripe resends events and may send them out of order: each id is taken once, and every event
  // only triggers a fresh read from Stripe, so order never changes the outcome.
  setHandler(stripeEventSignal, (event) => {
    if (event.type !== 'recheck' && seenEvents.has(event.event_id)) return;
    seenEvents.add(event.event_id);
    inbox.push(event);
  });
  setHandler(purchaseViewQuery, () => view);

  const publishStatus = (status: PurchaseStatus) => {
    view.status = status;
    upsertSearchAttributes([
      { key: purchaseStatusAttribute, value: status },
      ...(view.stripe_checkout_session_id
        ? [{ key: stripeSessionIdAttribute, value: view.stripe_checkout_session_id }]
        : []),
      ...(view.stripe_payment_intent_id
        ? [{ key: stripePaymentIntentIdAttribute, value: view.stripe_payment_intent_id }]
        : []),
    ]);
  };
  /** Why it waits (or failed), in the view, as a search attribute and as the run's current details. */
  const publishReason = (reason: StatusReason | undefined, since = new Date().toISOString()) => {
    if (!v1 || reason === view.status_reason) return;
    if (reason) {
      view.status_reason = reason;
      view.status_reason_since = since;
    } else {
      delete view.status_reason;
      delete view.status_reason_since;
    }
    upsertSearchAttributes([{ key: statusReasonAttribute, value: reason ?? null }]);
    setCurrentDetails(
      reason
        ? `${view.status}: ${reason.replaceAll('_', ' ')} since ${since}`
        : `${view.status}${view.credits_added ? `: ${view.credits_added} ${terms.credit_type} credits granted` : ''}`,
    );
  };
  const learnIds = (event: StripeEventSignal) => {
    view.stripe_checkout_session_id ??= event.checkout_session_id ?? undefined;
    view.stripe_payment_intent_id ??= event.payment_intent_id ?? undefined;
    view.stripe_charge_id ??= event.charge_id ?? undefined;
  };

  upsertSearchAttributes([
    { key: purchaseIdAttribute, value: terms.purchase_id },
    { key: instanceIdAttribute, value: terms.instance_id },
    { key: userEmailAttribute, value: terms.user_email },
  ]);

  if (v1 && loaded.saved && settledStatuses.has(loaded.saved.status)) {
    // A later run for a purchase already fulfilled: only refunds and disputes are news here.
    publishStatus(view.status);
    await followAfterSale({ terms, view, inbox, learnIds, publishStatus, publishReason, v1, input });
    return view;
  }
  if (v1 && loaded.saved && (loaded.saved.status === 'failed' || loaded.saved.status === 'expired')) {
    // News for a purchase that never paid: nothing to do but say so again.
    publishStatus(view.status);
    throw purchaseEnded(view);
  }
  publishStatus('pending');
  publishReason('awaiting_payment');

  const check = async (closeIfOpen: boolean): Promise<PaymentCheck> => {
    const request = {
      terms,
      checkout_session_id: view.stripe_checkout_session_id,
      payment_intent_id: view.stripe_payment_intent_id,
      close_if_open: closeIfOpen,
    };
    if (!v1) return activities.checkPayment(request);
    // While Stripe does not answer, the activity retries; after a while the purchase says so.
    const watch = new CancellationScope();
    const reasonBefore = view.status_reason;
    const watched = watch
      .run(() =>
        sleep(input.slow_stripe_read_ms ?? slowStripeReadMs, {
          summary: 'Stripe slow to answer: mark the purchase as waiting on Stripe',
        }),
      )
      .then(
        () => publishReason('stripe_unreachable'),
        (error) => {
          if (!isCancellation(error)) throw error;
        },
      );
    try {
      return await activities.checkPayment.executeWithOptions(
        {
          summary: closeIfOpen
            ? 'Read the payment back from Stripe at the deadline, closing it if still open'
            : 'Read the payment back from Stripe',
        },
        [request],
      );
    } finally {
      watch.cancel();
      // The timer may have fired in the same workflow task as the read's answer came back. A worker
      // that ran the task live marked the purchase first; one replaying it resumed here first, so
      // it skipped the restore and the history no longer matched (nondeterminism: seen in a chaos
      // run after worker kills). Waiting for the watch to settle puts the mark first either way.
      await watched;
      if (view.status_reason === 'stripe_unreachable') publishReason(reasonBefore);
    }
  };

  /** Applies what Stripe said; returns true once the payment phase is decided. */
  const apply = (result: PaymentCheck, atDeadline: boolean): boolean => {
    view.stripe_payment_intent_id ??= result.payment_intent_id;
    view.stripe_charge_id ??= result.charge_id;
    switch (result.outcome) {
      case 'paid':
        publishStatus('paid');
        return true;
      case 'expired':
        publishStatus(view.last_payment_error ? 'failed' : 'expired');
        publishReason(view.last_payment_error ? 'payment_failed' : 'expired');
        return true;
      case 'mismatch':
        // Stripe took a different amount than the package costs: never credit it; an operator decides.
        view.failure_reason = result.detail ?? 'amount_mismatch';
        log.error('payment does not match the package', {
          purchase_id: terms.purchase_id,
          detail: result.detail,
        });
        publishStatus('failed');
        publishReason('amount_mismatch');
        return true;
      case 'failed':
        // A failed Checkout payment is final; a PaymentIntent may still be paid with another card.
        view.last_payment_error = result.detail ?? 'payment failed';
        if (terms.flow === 'checkout' || atDeadline) {
          view.failure_reason = view.last_payment_error;
          publishStatus('failed');
          publishReason('payment_failed');
          return true;
        }
        return false;
      case 'pending':
        publishReason(result.stripe_status === 'processing' ? 'processing_at_stripe' : 'awaiting_payment');
        return false;
    }
  };

  // Phase 1: the payment. Ends paid, expired or failed; the deadline asks Stripe before giving up.
  const deadline = Date.parse(terms.pay_by) + (input.deadline_grace_ms ?? 10 * 60_000);
  let decided = false;
  while (!decided) {
    const remaining = Math.max(deadline - Date.now(), 1);
    const arrived = v1
      ? await condition(() => inbox.length > 0, remaining, { summary: 'Payment deadline (pay_by and grace)' })
      : await condition(() => inbox.length > 0, remaining);
    if (!arrived) {
      decided = apply(await check(true), true);
      if (!decided)
        throw ApplicationFailure.nonRetryable(
          'payment still open after closing it',
          purchaseFailures.undecided,
        );
      break;
    }
    const event = inbox[0]!;
    learnIds(event);
    if (paymentEvents.has(event.type) || afterSaleEvents.has(event.type)) {
      const result = await check(false);
      decided = apply(result, false);
      // State only (no command): runs recorded before this line replay unchanged.
      if (event.type === 'recheck') view.last_check = { event_id: event.event_id, outcome: result.outcome };
    }
    // A refund or dispute can only follow a payment: once paid, keep it for phase 2.
    if (!(decided && afterSaleEvents.has(event.type))) inbox.shift();
  }

  if (view.status !== 'paid') {
    await activities.savePurchaseView(view);
    if (v1) throw purchaseEnded(view);
    return view;
  }
  const granted = await activities.grantPurchaseCredits({ terms });
  view.credits_added = granted.delta;
  view.balances = granted.balances;
  view.granted = { transaction_id: granted.transaction_id, balances: granted.balances };
  view.fulfilled_at = new Date().toISOString();
  publishStatus('fulfilled');
  publishReason(undefined);
  await activities.savePurchaseView(view);
  await activities.notifyCreditsUpdated({
    terms,
    delta: granted.delta,
    reason: 'purchase',
    ledger_seq: granted.ledger_seq,
    balances: granted.balances,
  });
  await followAfterSale({ terms, view, inbox, learnIds, publishStatus, publishReason, v1, input });
  return view;
}

/** Failed and expired purchases end as failed runs, with the view as the failure's details. */
function purchaseEnded(view: PurchaseView): ApplicationFailure {
  const type = view.status === 'expired' ? purchaseFailures.expired : purchaseFailures.failed;
  return ApplicationFailure.nonRetryable(
    `purchase ${view.status}${view.failure_reason ? `: ${view.failure_reason}` : ''}`,
    type,
    view,
  );
}

interface AfterSale {
  terms: PurchaseTerms;
  view: PurchaseView;
  inbox: StripeEventSignal[];
  learnIds(event: StripeEventSignal): void;
  publishStatus(status: PurchaseStatus): void;
  publishReason(reason: StatusReason | undefined): void;
  v1: boolean;
  input: PurchaseWorkflowInput;
}

/**
 * Phase 2: refunds and disputes. Old runs wait for them until the card network's window closes
 * (180 days); a v1 run handles what has come and completes, waiting longer only while a dispute
 * is open. Every event is read back from Stripe by its activity.
 */
async function followAfterSale(run: AfterSale): Promise<void> {
  const { terms, view, inbox, learnIds, publishStatus, publishReason, v1, input } = run;
  const window = input.after_sale_ms ?? 180 * 24 * 3600_000;
  const afterSaleEnds = Date.parse(view.fulfilled_at ?? terms.created_at) + window;
  // Old runs measured the window from the moment they got here (fulfilment): keep exactly that.
  const oldWindowEnds = Date.now() + window;
  let creditsRemoved = view.credits_clawed_back ?? 0;

  async function holdDispute(disputeId: string): Promise<void> {
    const held = creditsHeldForDispute(terms, creditsRemoved);
    const hold = await activities.holdDisputedCredits({
      terms,
      dispute_id: disputeId,
      credits: held,
    });
    view.dispute = { id: disputeId, status: 'open', credits_held: held };
    view.balances = hold.balances;
    publishStatus('disputed');
    await activities.notifyCreditsUpdated({
      terms,
      delta: hold.delta,
      reason: 'dispute',
      ledger_seq: hold.ledger_seq,
      balances: hold.balances,
    });
  }

  /** Reads the open dispute back from Stripe; false while Stripe says it is still open. */
  async function settleOpenDispute(): Promise<boolean> {
    const dispute = view.dispute!;
    const settled = await activities.settleDispute({
      terms,
      dispute_id: dispute.id,
      credits_held: dispute.credits_held,
    });
    if (settled.outcome === 'open') return false;
    view.dispute = { ...dispute, status: settled.outcome };
    if (settled.outcome === 'won') {
      view.balances = settled.balances;
      publishStatus(view.refunded_amount && view.refunded_amount >= terms.amount ? 'refunded' : 'fulfilled');
      await activities.notifyCreditsUpdated({
        terms,
        delta: settled.delta,
        reason: 'dispute_won',
        ledger_seq: settled.ledger_seq!,
        balances: settled.balances!,
      });
    } else {
      publishStatus('disputed');
    }
    publishReason(undefined);
    return true;
  }
  for (;;) {
    let arrived: boolean;
    if (!v1) {
      arrived = await condition(() => inbox.length > 0, Math.max(oldWindowEnds - Date.now(), 1));
    } else if (inbox.length > 0) {
      arrived = true;
    } else if (view.dispute?.status === 'open') {
      publishReason('follows_dispute');
      arrived = await condition(() => inbox.length > 0, Math.max(afterSaleEnds - Date.now(), 1), {
        summary: 'Wait for the open dispute to close',
      });
    } else {
      // Nothing more to do: complete (news that comes later starts a new run).
      arrived = false;
    }
    if (!arrived) break;
    const event = inbox.shift()!;
    learnIds(event);
    const chargeId = event.charge_id ?? view.stripe_charge_id;
    if (event.type === 'charge.refunded' && chargeId) {
      const refund = await activities.clawBackRefund({
        terms,
        charge_id: chargeId,
        credits_already_removed: creditsRemoved,
      });
      view.refunded_amount = refund.amount_refunded;
      if (refund.delta !== 0) {
        creditsRemoved = refund.credits_removed_total;
        view.credits_clawed_back = creditsRemoved;
        view.balances = refund.balances;
        await activities.notifyCreditsUpdated({
          terms,
          delta: refund.delta,
          reason: 'refund',
          ledger_seq: refund.ledger_seq!,
          balances: refund.balances!,
        });
      }
      if (refund.amount_refunded >= terms.amount && (view.status as PurchaseStatus) !== 'disputed')
        publishStatus('refunded');
    } else if (event.type === 'charge.dispute.created' && event.dispute_id && !view.dispute) {
      await holdDispute(event.dispute_id);
    } else if (event.type === 'charge.dispute.closed' && view.dispute?.status === 'open') {
      if (!(await settleOpenDispute())) continue; // Stripe does not say closed yet: wait for the next event
    } else if (
      event.type === 'charge.dispute.closed' &&
      event.dispute_id &&
      !view.dispute &&
      patched(purchasePatches.disputeClosedFirst)
    ) {
      // Stripe promises no order: the close came before the dispute's creation (whose delivery
      // failed and is retried later). Hold, then settle from what Stripe says now; the late
      // created event then finds the dispute known and changes nothing.
      await holdDispute(event.dispute_id);
      await settleOpenDispute();
    } else {
      continue; // a late payment event: the payment is already decided
    }
    await activities.savePurchaseView(view);
  }
}
