import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { stripeEndpoint } from '../../src/stripe/client';
import { StripeGatewayError } from '../../src/stripe/errors';
import { createStripeGateway, type StripeGateway } from '../../src/stripe/gateway';
import type { CheckoutSessionSnapshot } from '../../src/stripe/types';
import { checkoutRequest, startTestSandbox, TEST_SECRET_KEY, type TestSandbox } from './helpers';

// The real stripe client, through our gateway, against the local sandbox.

async function rejectsWith(promise: Promise<unknown>, expected: Partial<StripeGatewayError>) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof StripeGatewayError, `expected StripeGatewayError, got ${error}`);
    for (const [key, value] of Object.entries(expected)) {
      assert.equal((error as unknown as Record<string, unknown>)[key], value, `error.${key}`);
    }
    return error as StripeGatewayError;
  }
  assert.fail('expected the call to fail');
}

describe('stripe gateway against the sandbox', () => {
  let env: TestSandbox;
  let gateway: StripeGateway;

  before(async () => {
    env = await startTestSandbox();
    gateway = env.gateway;
  });
  after(() => env.stop());

  it('parses STRIPE_API_URL into the client host, port and protocol', () => {
    assert.deepEqual(stripeEndpoint('http://127.0.0.1:12111'), {
      host: '127.0.0.1',
      port: 12111,
      protocol: 'http',
    });
    assert.deepEqual(stripeEndpoint('https://stripe.internal'), {
      host: 'stripe.internal',
      port: 443,
      protocol: 'https',
    });
    assert.deepEqual(stripeEndpoint('http://[::1]:9000/'), { host: '::1', port: 9000, protocol: 'http' });
    assert.throws(() => stripeEndpoint('http://127.0.0.1:12111/stripe'), /must not have a path/);
    assert.throws(() => stripeEndpoint('ftp://127.0.0.1'), /http or https/);
  });

  it('creates a Checkout Session with the purchase on it, in minor units', async () => {
    const expiresAt = new Date(Date.now() + 3600_000);
    const request = checkoutRequest({ expiresAt });
    const session = await gateway.createCheckoutSession(request);
    assert.match(session.id, /^cs_test_/);
    assert.equal(session.status, 'open');
    assert.equal(session.paymentStatus, 'unpaid');
    assert.equal(session.amountTotal, 750); // JPY is zero-decimal: 750 means ¥750
    assert.equal(session.currency, 'jpy');
    assert.equal(session.clientReferenceId, request.purchaseId);
    assert.equal(session.customerEmail, 'buyer@example.com');
    assert.deepEqual(session.metadata, { ...request.metadata, purchase_id: request.purchaseId });
    assert.equal(session.url, `${env.sandbox.url}/checkout/${session.id}`);
    assert.equal(session.expiresAt, new Date(Math.floor(expiresAt.getTime() / 1000) * 1000).toISOString());
    assert.equal(session.paymentIntentId, null);
  });

  it('puts the purchase metadata on the PaymentIntent the session creates', async () => {
    const request = checkoutRequest();
    const session = await gateway.createCheckoutSession(request);
    await env.control(`checkout/sessions/${session.id}/pay`, { send_webhooks: false });
    const paid = await gateway.retrieveCheckoutSession(session.id);
    assert.equal(paid.status, 'complete');
    assert.equal(paid.paymentStatus, 'paid');
    assert.ok(paid.paymentIntent, 'payment_intent is expanded');
    assert.equal(paid.paymentIntent.id, paid.paymentIntentId);
    assert.equal(paid.paymentIntent.status, 'succeeded');
    assert.equal(paid.paymentIntent.amountReceived, 750);
    assert.equal(paid.paymentIntent.metadata.purchase_id, request.purchaseId);
    assert.equal(paid.paymentIntent.metadata.credit_type, 'article');
  });

  it('splits the amount over a quantity, and refuses one that does not divide it', async () => {
    const session = await gateway.createCheckoutSession(checkoutRequest({ amount: 1500, quantity: 3 }));
    assert.equal(session.amountTotal, 1500);
    await rejectsWith(gateway.createCheckoutSession(checkoutRequest({ amount: 1000, quantity: 3 })), {
      kind: 'invalid_request',
      retryable: false,
    });
  });

  it('replays a create with the same idempotency key instead of making a second session', async () => {
    const request = checkoutRequest();
    const first = await gateway.createCheckoutSession(request);
    const second = await gateway.createCheckoutSession(request);
    assert.equal(second.id, first.id);
    const conflict = await rejectsWith(gateway.createCheckoutSession({ ...request, amount: 800 }), {
      kind: 'idempotency',
      retryable: false,
    });
    assert.equal(conflict.details.statusCode, 400);
  });

  it('creates a PaymentIntent with automatic payment methods and returns its client secret', async () => {
    const intent = await gateway.createPaymentIntent({
      idempotencyKey: `intent:${Date.now()}`,
      amount: 1200,
      currency: 'USD',
      metadata: { purchase_id: 'pur_pi_1', instance_id: 'inst_1' },
      receiptEmail: 'buyer@example.com',
      description: 'Rakubun credits',
    });
    assert.match(intent.id, /^pi_/);
    assert.ok(intent.clientSecret.startsWith(`${intent.id}_secret_`));
    assert.equal(intent.status, 'requires_payment_method');
    assert.equal(intent.amount, 1200);
    assert.equal(intent.currency, 'usd');
    assert.equal(intent.metadata.purchase_id, 'pur_pi_1');

    const confirmed = await env.control(`payment_intents/${intent.id}/succeed`, { send_webhooks: false });
    assert.equal(confirmed.status, 200);
    const read = await gateway.retrievePaymentIntent(intent.id);
    assert.equal(read.status, 'succeeded');
    assert.equal(read.amountReceived, 1200);
    assert.ok(read.latestCharge, 'latest_charge is expanded');
    assert.equal(read.latestCharge.id, read.latestChargeId);
    assert.equal(read.latestCharge.status, 'succeeded');
    assert.equal(read.latestCharge.paymentIntentId, intent.id);
    assert.equal('clientSecret' in read, false, 'only the create result carries the client secret');
  });

  it('reads a charge with its refunds and dispute flag', async () => {
    const session = await gateway.createCheckoutSession(checkoutRequest());
    await env.control(`checkout/sessions/${session.id}/pay`, { send_webhooks: false });
    const { paymentIntent } = await gateway.retrieveCheckoutSession(session.id);
    const chargeId = paymentIntent!.latestChargeId!;
    await env.control(`charges/${chargeId}/refund`, { amount: 250, send_webhooks: false });
    await env.control(`charges/${chargeId}/dispute`, { send_webhooks: false });
    const charge = await gateway.retrieveCharge(chargeId);
    assert.equal(charge.amount, 750);
    assert.equal(charge.amountRefunded, 250);
    assert.equal(charge.refunded, false);
    assert.equal(charge.disputed, true);
    assert.equal(charge.metadata.purchase_id, session.clientReferenceId);
  });

  it('expires an open session, and refuses to expire it twice', async () => {
    const session = await gateway.createCheckoutSession(checkoutRequest());
    const expired = await gateway.expireCheckoutSession(session.id);
    assert.equal(expired.status, 'expired');
    assert.equal(expired.url, null);
    await rejectsWith(gateway.expireCheckoutSession(session.id), {
      kind: 'invalid_request',
      retryable: false,
    });
  });

  it('lists recent sessions with their PaymentIntents, bounded, newest first', async () => {
    // A sandbox of its own, so that sessions of other tests made in the same second stay out.
    const fresh = await startTestSandbox();
    try {
      const lister = createStripeGateway({ secretKey: TEST_SECRET_KEY, apiUrl: fresh.sandbox.url });
      const since = new Date(Math.floor(Date.now() / 1000) * 1000);
      const made: CheckoutSessionSnapshot[] = [];
      for (let i = 0; i < 3; i += 1) made.push(await lister.createCheckoutSession(checkoutRequest()));
      await fresh.control(`checkout/sessions/${made[0]!.id}/pay`, { send_webhooks: false });

      const all = await lister.listRecentCheckoutSessions({ createdSince: since, limit: 10 });
      assert.equal(all.hasMore, false);
      assert.deepEqual(
        all.items.map((session) => session.id),
        made.map((session) => session.id).reverse(),
      );
      const paid = all.items.find((session) => session.id === made[0]!.id)!;
      assert.equal(paid.paymentIntent?.status, 'succeeded');

      const bounded = await lister.listRecentCheckoutSessions({ createdSince: since, limit: 2 });
      assert.deepEqual(
        bounded.items.map((session) => session.id),
        [made[2]!.id, made[1]!.id],
      );
      assert.equal(bounded.hasMore, true);

      const future = await lister.listRecentCheckoutSessions({
        createdSince: new Date(Date.now() + 3600_000),
        limit: 5,
      });
      assert.deepEqual(future, { items: [], hasMore: false });
    } finally {
      await fresh.stop();
    }
  });

  it('pages through more PaymentIntents than one page holds', async () => {
    const since = new Date(Math.floor(Date.now() / 1000) * 1000);
    const ids = new Set<string>();
    for (let i = 0; i < 105; i += 1) {
      const intent = await gateway.createPaymentIntent({
        idempotencyKey: `page-test-${since.getTime()}-${i}`,
        amount: 100,
        currency: 'usd',
        metadata: { batch: String(since.getTime()), n: String(i) },
      });
      ids.add(intent.id);
    }
    const bounded = await gateway.listRecentPaymentIntents({ createdSince: since, limit: 103 });
    assert.equal(bounded.items.length, 103);
    assert.equal(bounded.hasMore, true);
    assert.equal(new Set(bounded.items.map((intent) => intent.id)).size, 103);

    const everything = await gateway.listRecentPaymentIntents({ createdSince: since, limit: 500 });
    assert.equal(everything.hasMore, false);
    const batch = everything.items.filter((intent) => intent.metadata.batch === String(since.getTime()));
    assert.deepEqual(new Set(batch.map((intent) => intent.id)), ids);
  });

  describe('errors', () => {
    it('an unknown id is not_found and not retryable', async () => {
      const error = await rejectsWith(gateway.retrieveCheckoutSession('cs_test_missing'), {
        kind: 'not_found',
        retryable: false,
      });
      assert.equal(error.details.statusCode, 404);
      assert.equal(error.details.code, 'resource_missing');
    });

    it('a parameter Stripe refuses is invalid_request with its code', async () => {
      const error = await rejectsWith(gateway.createCheckoutSession(checkoutRequest({ amount: 10 })), {
        kind: 'invalid_request',
        retryable: false,
      });
      assert.equal(error.details.code, 'amount_too_small');
    });

    it('amounts that are not positive integers never reach Stripe', async () => {
      for (const amount of [0, -5, 7.5, Number.NaN]) {
        await rejectsWith(
          gateway.createPaymentIntent({ idempotencyKey: 'k', amount, currency: 'jpy', metadata: {} }),
          {
            kind: 'invalid_request',
          },
        );
      }
    });

    it('a wrong key is authentication, not retryable, and the key is not in the message', async () => {
      const locked = await startTestSandbox({ apiKey: 'sk_test_the_right_one' });
      try {
        const wrongKey = 'sk_test_wrong_key_4242424242';
        const wrong = createStripeGateway({ secretKey: wrongKey, apiUrl: locked.sandbox.url });
        const error = await rejectsWith(wrong.retrieveCharge('ch_1'), {
          kind: 'authentication',
          retryable: false,
        });
        assert.equal(error.details.statusCode, 401);
        assert.ok(!error.message.includes(wrongKey));
        assert.ok(!JSON.stringify(error).includes(wrongKey));

        const live = createStripeGateway({ secretKey: 'sk_live_abcdef', apiUrl: locked.sandbox.url });
        const liveError = await rejectsWith(live.retrieveCharge('ch_1'), { kind: 'authentication' });
        assert.ok(!liveError.message.includes('sk_live_abcdef'));

        const right = createStripeGateway({ secretKey: 'sk_test_the_right_one', apiUrl: locked.sandbox.url });
        await rejectsWith(right.retrieveCharge('ch_1'), { kind: 'not_found' }); // authenticated, just missing
      } finally {
        await locked.stop();
      }
    });

    it('retries a 5xx by itself (maxNetworkRetries 2) and succeeds on the third attempt', async () => {
      const session = await gateway.createCheckoutSession(checkoutRequest());
      await env.control('faults', { status: 500, count: 2, path_prefix: '/v1/checkout/sessions/' });
      const read = await gateway.retrieveCheckoutSession(session.id);
      assert.equal(read.id, session.id);
    });

    it('a 5xx that outlasts the retries is api and retryable', async () => {
      await env.control('faults', { status: 503, count: 3, path_prefix: '/v1/payment_intents' });
      const error = await rejectsWith(gateway.retrievePaymentIntent('pi_any'), {
        kind: 'api',
        retryable: true,
      });
      assert.equal(error.details.statusCode, 503);
    });

    it('a rate limit is rate_limit and retryable', async () => {
      await env.control('faults', { status: 429, count: 1, path_prefix: '/v1/charges' });
      await rejectsWith(gateway.retrieveCharge('ch_any'), { kind: 'rate_limit', retryable: true });
    });

    it('a timeout is a connection failure and retryable', async () => {
      const impatient = createStripeGateway({
        secretKey: TEST_SECRET_KEY,
        apiUrl: env.sandbox.url,
        timeoutMs: 200,
        maxNetworkRetries: 0,
      });
      await env.control('faults', { delay_ms: 1500, count: 1, path_prefix: '/v1/charges' });
      await rejectsWith(impatient.retrieveCharge('ch_slow'), { kind: 'connection', retryable: true });
    });

    it('nobody listening is a connection failure and retryable', async () => {
      const closedPort = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as { port: number };
          probe.close(() => resolve(port));
        });
      });
      const nowhere = createStripeGateway({
        secretKey: TEST_SECRET_KEY,
        apiUrl: `http://127.0.0.1:${closedPort}`,
        maxNetworkRetries: 0,
      });
      const error = await rejectsWith(nowhere.retrieveCharge('ch_1'), {
        kind: 'connection',
        retryable: true,
      });
      assert.ok(!error.message.includes(TEST_SECRET_KEY));
    });
  });
});
