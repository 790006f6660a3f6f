import { ApplicationFailure, log } from '@temporalio/activity';
import type { Db } from 'mongodb';
import { creditsForRefund } from '../src/credits/rules';
import type { Ledger } from '../src/ledger';
import type { PaymentCheck, PurchaseTerms, PurchaseView } from '../src/purchases/model';
import { checkCheckoutSession, checkPaymentIntent, intentIsOpen } from '../src/purchases/payment-check';
import { findPurchase, saveOutcome } from '../src/purchases/store';
import { StripeGatewayError } from '../src/stripe/errors';
import type { StripeGateway } from '../src/stripe/gateway';
import type { CreditsUpdate } from '../src/webhooks/credits-updated';
import { purchaseFailures } from '../workflows/purchase/contract';

export interface PurchaseActivityDeps {
  db: Db;
  ledger: Ledger;
  /** Undefined when Stripe is not configured: purchases cannot start then, so this is never reached. */
  stripe: StripeGateway | undefined;
  publishCreditsUpdated(input: CreditsUpdate): Promise<void>;
}

interface LedgerChange {
  delta: number;
  ledger_seq: number;
  balances: Record<string, number>;
}

/** Stripe said no for good (bad request, unknown object): retrying cannot help. */
async function stripeCall<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StripeGatewayError && !error.retryable) {
      throw ApplicationFailure.nonRetryable(error.message, purchaseFailures.stripeRejected);
    }
    throw error;
  }
}

function account(terms: PurchaseTerms) {
  return { instance_id: terms.instance_id, user_id: terms.user_id, user_email: terms.user_email };
}

export function createPurchaseActivities(deps: PurchaseActivityDeps) {
  const gateway = (): StripeGateway => {
    if (!deps.stripe) {
      throw ApplicationFailure.nonRetryable('Stripe is not configured', purchaseFailures.stripeRejected);
    }
    return deps.stripe;
  };

  /**
   * Whether a charge or dispute (its PaymentIntent, as Stripe says when read back) is this purchase's
   * own payment. Its id came from an event, which could name any charge.
   */
  const isOwnPayment = async (
    terms: PurchaseTerms,
    paymentIntentId: string | null,
    stored?: Awaited<ReturnType<typeof findPurchase>>,
  ): Promise<boolean> => {
    stored ??= await findPurchase(deps.db, terms.purchase_id);
    const own =
      terms.stripe_payment_intent_id ??
      stored?.stripe_payment_intent_id ??
      (terms.stripe_checkout_session_id
        ? (await stripeCall(() => gateway().retrieveCheckoutSession(terms.stripe_checkout_session_id!)))
            .paymentIntentId
        : null);
    return own !== null && own !== undefined && paymentIntentId === own;
  };
  const logForeign = (what: string, terms: PurchaseTerms, id: string, paymentIntentId: string | null) =>
    log.warn(`${what} ignored: it is not this purchase's payment`, {
      purchase_id: terms.purchase_id,
      [`${what}_id`]: id,
      payment_intent: paymentIntentId,
    });

  return {
    /** The terms and, once the purchase has one, the view its workflow saved (a later run starts from it). */
    async loadPurchase(purchaseId: string): Promise<{ terms: PurchaseTerms; saved?: PurchaseView }> {
      const doc = await findPurchase(deps.db, purchaseId);
      if (!doc) throw ApplicationFailure.nonRetryable(`no purchase ${purchaseId}`, purchaseFailures.notFound);
      const {
        checkout_url: _url,
        request_id: _request,
        outcome,
        status: _status,
        updated_at: _at,
        ...terms
      } = doc as typeof doc & {
        _id?: unknown;
      };
      return { terms, ...(outcome ? { saved: outcome } : {}) };
    },

    /** Runs recorded before loadPurchase replay this one. */
    async loadPurchaseTerms(purchaseId: string): Promise<PurchaseTerms> {
      const doc = await findPurchase(deps.db, purchaseId);
      if (!doc) throw ApplicationFailure.nonRetryable(`no purchase ${purchaseId}`, purchaseFailures.notFound);
      const {
        checkout_url: _url,
        outcome: _outcome,
        status: _status,
        updated_at: _at,
        ...terms
      } = doc as typeof doc & { _id?: unknown };
      return terms;
    },

    /**
     * Reads the payment back from Stripe: the only thing that can make a purchase paid. With
     * `close_if_open` (the deadline) an open Checkout Session is expired and an unpaid intent
     * cancelled first, then read again, so a payment racing the deadline is still seen.
     */
    async checkPayment(input: {
      terms: PurchaseTerms;
      checkout_session_id?: string;
      payment_intent_id?: string;
      close_if_open: boolean;
    }): Promise<PaymentCheck> {
      const { terms } = input;
      const stripe = gateway();
      if (input.checkout_session_id) {
        let session = await stripeCall(() => stripe.retrieveCheckoutSession(input.checkout_session_id!));
        if (input.close_if_open && session.status === 'open') {
          await stripeCall(() => stripe.expireCheckoutSession(session.id)).catch(() => undefined);
          session = await stripeCall(() => stripe.retrieveCheckoutSession(session.id));
        }
        return checkCheckoutSession(terms, session);
      }
      if (input.payment_intent_id) {
        let intent = await stripeCall(() => stripe.retrievePaymentIntent(input.payment_intent_id!));
        if (input.close_if_open && intentIsOpen(intent)) {
          await stripeCall(() => stripe.cancelPaymentIntent(intent.id)).catch(() => undefined);
          intent = await stripeCall(() => stripe.retrievePaymentIntent(intent.id));
        }
        return checkPaymentIntent(terms, intent);
      }
      // Nothing was ever created at Stripe for this purchase: there is nothing to pay.
      return { outcome: input.close_if_open ? 'expired' : 'pending' };
    },

    /** The purchase id is the ledger key: however often this runs, the credits arrive once. */
    async grantPurchaseCredits(input: {
      terms: PurchaseTerms;
    }): Promise<LedgerChange & { transaction_id: string }> {
      const { terms } = input;
      const result = await deps.ledger.grant({
        ...account(terms),
        kind: 'purchase',
        credit_type: terms.credit_type,
        amount: terms.credits,
        idempotency_key: `purchase:${terms.purchase_id}`,
        reason: `purchase of ${terms.package_id}`,
        ref: terms.purchase_id,
      });
      return {
        delta: result.entry.delta,
        ledger_seq: result.entry.seq,
        balances: result.balances,
        transaction_id: result.entry.transaction_id,
      };
    },

    /**
     * Takes back credits for what Stripe says was refunded in total. What earlier refunds already
     * took is read from the ledger, and the key names the refunded total, so repeats apply once.
     */
    async clawBackRefund(input: {
      terms: PurchaseTerms;
      charge_id: string;
      credits_already_removed: number;
    }): Promise<{
      amount_refunded: number;
      credits_removed_total: number;
      delta: number;
      ledger_seq?: number;
      balances?: Record<string, number>;
    }> {
      const { terms } = input;
      const charge = await stripeCall(() => gateway().retrieveCharge(input.charge_id));
      // The charge id came from an event: act only if Stripe says it is this purchase's payment.
      const stored = await findPurchase(deps.db, terms.purchase_id);
      if (!(await isOwnPayment(terms, charge.paymentIntentId, stored))) {
        logForeign('charge', terms, input.charge_id, charge.paymentIntentId);
        return {
          amount_refunded: stored?.outcome?.refunded_amount ?? 0,
          credits_removed_total: input.credits_already_removed,
          delta: 0,
        };
      }
      const target = creditsForRefund(terms, charge.amountRefunded);
      const already = await deps.ledger.creditsRefunded(terms.purchase_id);
      const owed = target - already;
      if (owed <= 0)
        return { amount_refunded: charge.amountRefunded, credits_removed_total: already, delta: 0 };
      const result = await deps.ledger.refund({
        ...account(terms),
        credit_type: terms.credit_type,
        amount: owed,
        idempotency_key: `refund:${terms.purchase_id}:${charge.amountRefunded}`,
        reason: `refund of ${charge.amountRefunded} ${charge.currency}`,
        ref: terms.purchase_id,
      });
      return {
        amount_refunded: charge.amountRefunded,
        credits_removed_total: already + owed,
        delta: result.entry.delta,
        ledger_seq: result.entry.seq,
        balances: result.balances,
      };
    },

    /** Holds a disputed purchase's credits (the balance may go negative) until the dispute closes. */
    async holdDisputedCredits(input: {
      terms: PurchaseTerms;
      dispute_id: string;
      credits: number;
    }): Promise<LedgerChange> {
      const { terms } = input;
      const dispute = await stripeCall(() => gateway().retrieveDispute(input.dispute_id));
      const ours = await isOwnPayment(terms, dispute.paymentIntentId);
      if (!ours) logForeign('dispute', terms, input.dispute_id, dispute.paymentIntentId);
      if (input.credits <= 0 || !ours) {
        const head = await deps.ledger.balances(account(terms));
        return { delta: 0, ledger_seq: head.seq, balances: head.balances };
      }
      const result = await deps.ledger.disputeHold({
        ...account(terms),
        credit_type: terms.credit_type,
        amount: input.credits,
        idempotency_key: `dispute_hold:${input.dispute_id}`,
        reason: `dispute ${input.dispute_id} opened`,
        ref: terms.purchase_id,
      });
      return { delta: result.entry.delta, ledger_seq: result.entry.seq, balances: result.balances };
    },

    /** Reads the dispute's outcome from Stripe; a won dispute gives the held credits back. */
    async settleDispute(input: { terms: PurchaseTerms; dispute_id: string; credits_held: number }): Promise<{
      outcome: 'won' | 'lost' | 'open';
      delta: number;
      ledger_seq?: number;
      balances?: Record<string, number>;
    }> {
      const { terms } = input;
      const dispute = await stripeCall(() => gateway().retrieveDispute(input.dispute_id));
      if (!(await isOwnPayment(terms, dispute.paymentIntentId))) {
        // Nothing was held for it (holdDisputedCredits checked too): the purchase is as it was.
        logForeign('dispute', terms, input.dispute_id, dispute.paymentIntentId);
        const head = await deps.ledger.balances(account(terms));
        return { outcome: 'won', delta: 0, ledger_seq: head.seq, balances: head.balances };
      }
      if (dispute.status === 'won' && input.credits_held > 0) {
        const result = await deps.ledger.disputeRelease({
          ...account(terms),
          credit_type: terms.credit_type,
          amount: input.credits_held,
          idempotency_key: `dispute_release:${input.dispute_id}`,
          reason: `dispute ${input.dispute_id} won`,
          ref: terms.purchase_id,
        });
        return {
          outcome: 'won',
          delta: result.entry.delta,
          ledger_seq: result.entry.seq,
          balances: result.balances,
        };
      }
      if (dispute.status === 'won') return { outcome: 'won', delta: 0 };
      if (dispute.status === 'lost') return { outcome: 'lost', delta: 0 };
      return { outcome: 'open', delta: 0 };
    },

    async savePurchaseView(view: PurchaseView): Promise<void> {
      await saveOutcome(deps.db, view);
    },

    async notifyCreditsUpdated(input: {
      terms: PurchaseTerms;
      delta: number;
      reason: string;
      ledger_seq: number;
      balances: Record<string, number>;
    }): Promise<void> {
      const { terms } = input;
      await deps.publishCreditsUpdated({
        instance_id: terms.instance_id,
        user_id: terms.user_id,
        user_email: terms.user_email,
        delta: input.delta,
        reason: input.reason,
        ledger_seq: input.ledger_seq,
        balances: input.balances,
        purchase_id: terms.purchase_id,
      });
    },
  };
}

export type PurchaseActivities = ReturnType<typeof createPurchaseActivities>;
