import assert from 'node:assert/strict';
import { checkCheckoutSession, checkPaymentIntent, intentIsOpen } from '../../src/purchases/payment-check';
import type { CheckoutSessionSnapshot, PaymentIntentSnapshot } from '../../src/stripe/types';

// What counts as paid (src/purchases/payment-check.ts), from snapshots of what Stripe says.

const terms = { amount: 750, currency: 'JPY' };

function intent(overrides: Partial<PaymentIntentSnapshot> = {}): PaymentIntentSnapshot {
  return {
    id: 'pi_1',
    status: 'succeeded',
    amount: 750,
    amountReceived: 750,
    currency: 'jpy',
    metadata: {},
    latestChargeId: 'ch_1',
    latestCharge: null,
    lastPaymentError: null,
    createdAt: '2026-12-01T00:00:00.000Z',
    ...overrides,
  };
}

function session(overrides: Partial<CheckoutSessionSnapshot> = {}): CheckoutSessionSnapshot {
  return {
    id: 'cs_1',
    status: 'complete',
    paymentStatus: 'paid',
    amountTotal: 750,
    currency: 'jpy',
    clientReferenceId: null,
    customerEmail: null,
    paymentIntentId: 'pi_1',
    paymentIntent: intent(),
    metadata: {},
    url: null,
    expiresAt: '2026-12-02T00:00:00.000Z',
    createdAt: '2026-12-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('the payment check', () => {
  it('a PaymentIntent is paid only when it succeeded for the package price and currency', () => {
    assert.deepEqual(checkPaymentIntent(terms, intent()), {
      outcome: 'paid',
      payment_intent_id: 'pi_1',
      charge_id: 'ch_1',
    });
    const short = checkPaymentIntent(terms, intent({ amountReceived: 1 }));
    assert.equal(short.outcome, 'mismatch');
    assert.match(short.detail ?? '', /paid 1 jpy, package costs 750 jpy/);
    assert.equal(checkPaymentIntent(terms, intent({ currency: 'usd' })).outcome, 'mismatch');
    assert.equal(checkPaymentIntent(terms, intent({ status: 'canceled' })).outcome, 'expired');
    assert.equal(checkPaymentIntent(terms, intent({ status: 'processing' })).outcome, 'pending');
    const declined = checkPaymentIntent(
      terms,
      intent({
        status: 'requires_payment_method',
        lastPaymentError: { code: 'card_declined', declineCode: null, message: 'Your card was declined.' },
      }),
    );
    assert.deepEqual([declined.outcome, declined.detail], ['failed', 'Your card was declined.']);
    assert.equal(checkPaymentIntent(terms, intent({ status: 'requires_payment_method' })).outcome, 'pending');
  });

  it('a Checkout Session is paid only when complete, paid, and for the package price', () => {
    assert.deepEqual(checkCheckoutSession(terms, session()), {
      outcome: 'paid',
      payment_intent_id: 'pi_1',
      charge_id: 'ch_1',
    });
    assert.equal(checkCheckoutSession(terms, session({ amountTotal: 749 })).outcome, 'mismatch');
    assert.equal(checkCheckoutSession(terms, session({ status: 'expired' })).outcome, 'expired');
    assert.equal(
      checkCheckoutSession(terms, session({ status: 'open', paymentStatus: 'unpaid' })).outcome,
      'pending',
    );
    // Konbini or bank transfer: complete and unpaid until the money arrives, failed if it never does.
    const waiting = session({ paymentStatus: 'unpaid', paymentIntent: intent({ status: 'processing' }) });
    assert.equal(checkCheckoutSession(terms, waiting).outcome, 'pending');
    const lapsed = session({ paymentStatus: 'unpaid', paymentIntent: intent({ status: 'canceled' }) });
    assert.equal(checkCheckoutSession(terms, lapsed).outcome, 'failed');
  });

  it('only an unsettled PaymentIntent is closed at the deadline', () => {
    assert.equal(intentIsOpen({ status: 'requires_payment_method' }), true);
    assert.equal(intentIsOpen({ status: 'requires_action' }), true);
    for (const status of ['succeeded', 'canceled', 'processing'])
      assert.equal(intentIsOpen({ status }), false);
  });
});
