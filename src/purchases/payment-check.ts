import type { CheckoutSessionSnapshot, PaymentIntentSnapshot } from '../stripe/types';
import type { PaymentCheck, PurchaseTerms } from './model';

// What counts as paid, read from what Stripe says (never from an event body or the plugin). Pure:
// the purchase activities read Stripe and hand the snapshots here; test/purchases/payment-check.test.ts
// pins every outcome.

type Terms = Pick<PurchaseTerms, 'amount' | 'currency'>;

/** Stripe took a different amount or currency than the package costs: never credited. */
function priceMismatch(terms: Terms, amount: number | null, currency: string | null): string | undefined {
  const expected = terms.currency.toLowerCase();
  if (amount === terms.amount && currency === expected) return undefined;
  return `paid ${amount} ${currency}, package costs ${terms.amount} ${expected}`;
}

export function checkPaymentIntent(terms: Terms, intent: PaymentIntentSnapshot): PaymentCheck {
  const ids = { payment_intent_id: intent.id, charge_id: intent.latestChargeId ?? undefined };
  if (intent.status === 'succeeded') {
    const mismatch = priceMismatch(terms, intent.amountReceived, intent.currency);
    return mismatch ? { outcome: 'mismatch', ...ids, detail: mismatch } : { outcome: 'paid', ...ids };
  }
  if (intent.status === 'canceled') return { outcome: 'expired', ...ids };
  if (intent.status === 'requires_payment_method' && intent.lastPaymentError) {
    return { outcome: 'failed', ...ids, detail: intent.lastPaymentError.message ?? 'payment failed' };
  }
  return { outcome: 'pending', ...ids, stripe_status: intent.status };
}

export function checkCheckoutSession(terms: Terms, session: CheckoutSessionSnapshot): PaymentCheck {
  const ids = { payment_intent_id: session.paymentIntentId ?? undefined };
  if (session.status === 'expired') return { outcome: 'expired', ...ids };
  if (session.status === 'complete' && session.paymentStatus === 'paid') {
    const mismatch = priceMismatch(terms, session.amountTotal, session.currency);
    if (mismatch) return { outcome: 'mismatch', ...ids, detail: mismatch };
    return { outcome: 'paid', ...ids, charge_id: session.paymentIntent?.latestChargeId ?? undefined };
  }
  if (session.status === 'complete' && session.paymentIntent) {
    // Async methods (bank transfer, konbini): complete but unpaid until the money arrives.
    const intent = session.paymentIntent;
    if (['requires_payment_method', 'canceled'].includes(intent.status)) {
      return {
        outcome: 'failed',
        ...ids,
        detail: intent.lastPaymentError?.message ?? 'async payment failed',
      };
    }
  }
  const stripeStatus = session.paymentIntent?.status;
  return { outcome: 'pending', ...ids, ...(stripeStatus ? { stripe_status: stripeStatus } : {}) };
}

/** A PaymentIntent still open: the deadline closes it before the last read. */
export function intentIsOpen(intent: Pick<PaymentIntentSnapshot, 'status'>): boolean {
  return !['succeeded', 'canceled', 'processing'].includes(intent.status);
}
