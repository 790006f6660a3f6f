import assert from 'node:assert/strict';
import { createStripeClient } from '../../src/stripe/client';
import { StripeGatewayError } from '../../src/stripe/errors';
import { createStripeGateway, type StripeGateway } from '../../src/stripe/gateway';
import { checkoutRequest } from './helpers';

// Contract tests: every gateway call once against stripe-mock, Stripe's own server that checks
// requests against the published OpenAPI spec. It answers with fixtures, so only acceptance and
// the shape of our snapshots are asserted here; behaviour is tested against the sandbox.

describe('stripe gateway contract (stripe-mock)', () => {
  let gateway: StripeGateway;
  let mockUrl: string;

  before(() => {
    mockUrl = process.env.STRIPE_MOCK_URL ?? '';
    assert.ok(mockUrl, 'STRIPE_MOCK_URL is set by test/run.ts');
    gateway = createStripeGateway({ secretKey: 'sk_test_123', apiUrl: mockUrl, maxNetworkRetries: 0 });
  });

  it('stripe-mock really validates: a parameter Stripe does not know is refused', async () => {
    const stripe = createStripeClient({ secretKey: 'sk_test_123', apiUrl: mockUrl, maxNetworkRetries: 0 });
    await assert.rejects(
      stripe.paymentIntents.create({ amount: 750, currency: 'jpy', not_a_stripe_param: 1 } as never),
      (error: { statusCode?: number }) => error.statusCode === 400,
    );
  });

  it('createCheckoutSession is accepted', async () => {
    const session = await gateway.createCheckoutSession(
      checkoutRequest({ amount: 1500, quantity: 2, expiresAt: new Date(Date.now() + 2 * 3600_000) }),
    );
    assert.match(session.id, /^cs_/);
    assert.equal(typeof session.status, 'string');
    assert.equal(typeof session.paymentStatus, 'string');
    assert.equal(typeof session.metadata, 'object');
    assert.ok(session.url === null || typeof session.url === 'string');
  });

  it('createPaymentIntent is accepted', async () => {
    const intent = await gateway.createPaymentIntent({
      idempotencyKey: `contract-pi-${Date.now()}`,
      amount: 750,
      currency: 'JPY',
      metadata: { purchase_id: 'pur_contract', credit_type: 'article' },
      receiptEmail: 'buyer@example.com',
      description: 'Rakubun credits',
    });
    assert.match(intent.id, /^pi_/);
    assert.equal(typeof intent.clientSecret, 'string');
    assert.equal(typeof intent.amount, 'number');
  });

  it('retrieveCheckoutSession (expand payment_intent) is accepted', async () => {
    const session = await gateway.retrieveCheckoutSession('cs_test_contract');
    assert.equal(typeof session.id, 'string');
    assert.ok(session.paymentIntent === null || typeof session.paymentIntent.status === 'string');
  });

  it('retrievePaymentIntent (expand latest_charge) is accepted', async () => {
    const intent = await gateway.retrievePaymentIntent('pi_contract');
    assert.equal(typeof intent.status, 'string');
    assert.ok(intent.latestCharge === null || typeof intent.latestCharge.amount === 'number');
  });

  it('retrieveCharge is accepted', async () => {
    const charge = await gateway.retrieveCharge('ch_contract');
    assert.equal(typeof charge.amountRefunded, 'number');
    assert.equal(typeof charge.disputed, 'boolean');
  });

  it('expireCheckoutSession is accepted', async () => {
    const session = await gateway.expireCheckoutSession('cs_test_contract');
    assert.equal(typeof session.id, 'string');
  });

  it('cancelPaymentIntent is accepted', async () => {
    const intent = await gateway.cancelPaymentIntent('pi_contract');
    assert.match(intent.id, /^pi_/);
    assert.equal(typeof intent.status, 'string');
  });

  it('retrieveDispute is accepted', async () => {
    const dispute = await gateway.retrieveDispute('du_contract');
    assert.match(dispute.id, /^(du|dp)_/);
    assert.equal(typeof dispute.status, 'string');
    assert.equal(typeof dispute.amount, 'number');
  });

  it('listRecentCheckoutSessions (created[gte], expand data.payment_intent) is accepted', async () => {
    const list = await gateway.listRecentCheckoutSessions({
      createdSince: new Date(Date.now() - 3600_000),
      limit: 5,
    });
    assert.ok(Array.isArray(list.items));
    assert.equal(typeof list.hasMore, 'boolean');
    for (const session of list.items) assert.equal(typeof session.id, 'string');
  });

  it('listRecentPaymentIntents (created[gte]) is accepted', async () => {
    const list = await gateway.listRecentPaymentIntents({
      createdSince: new Date(Date.now() - 3600_000),
      limit: 5,
    });
    assert.ok(Array.isArray(list.items));
    for (const intent of list.items) assert.equal(typeof intent.status, 'string');
  });

  it('stripe-mock refusals come back as our non-retryable error', async () => {
    const wrongKey = createStripeGateway({ secretKey: 'not-a-key', apiUrl: mockUrl, maxNetworkRetries: 0 });
    await assert.rejects(
      wrongKey.retrieveCharge('ch_contract'),
      (error: unknown) =>
        error instanceof StripeGatewayError &&
        error.kind === 'authentication' &&
        !error.retryable &&
        !error.message.includes('not-a-key'),
    );
  });
});
