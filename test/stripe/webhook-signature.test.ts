import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { StripeGatewayError } from '../../src/stripe/errors';
import type { StripeGateway } from '../../src/stripe/gateway';
import { stripeSignatureHeader } from '../../tools/stripe-sandbox/signature';
import { checkoutRequest, startTestSandbox, TEST_WEBHOOK_SECRET, type TestSandbox } from './helpers';

// The sandbox signs like Stripe: the official library's constructEvent accepts what it sends.

describe('stripe webhook signatures', () => {
  let env: TestSandbox;
  let gateway: StripeGateway;

  before(async () => {
    env = await startTestSandbox();
    gateway = env.gateway;
  });
  after(() => env.stop());

  async function deliveredCompletedEvent() {
    const session = await gateway.createCheckoutSession(checkoutRequest());
    env.receiver.clear();
    await env.control(`checkout/sessions/${session.id}/pay`);
    const webhook = env.receiver.received.find((w) => w.event.type === 'checkout.session.completed');
    assert.ok(webhook, 'checkout.session.completed was delivered');
    return { session, webhook };
  }

  it('sends events that stripe.webhooks.constructEvent verifies, in Stripe event shape', async () => {
    const { session, webhook } = await deliveredCompletedEvent();
    const header = String(webhook.headers['stripe-signature']);
    assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.match(String(webhook.headers['content-type']), /^application\/json/);

    const event = Stripe.webhooks.constructEvent(webhook.rawBody, header, TEST_WEBHOOK_SECRET, 300);
    assert.match(event.id, /^evt_/);
    assert.equal(event.object, 'event');
    assert.equal(event.type, 'checkout.session.completed');
    assert.equal(event.livemode, false);
    assert.equal(event.api_version, Stripe.API_VERSION);
    assert.equal(typeof event.created, 'number');
    assert.equal(event.pending_webhooks, 1);
    assert.ok('request' in event);
    const object = event.data.object as Stripe.Checkout.Session;
    assert.equal(object.id, session.id);
    assert.equal(object.object, 'checkout.session');
    assert.equal(object.payment_status, 'paid');
  });

  it('verifyWebhookEvent returns the ids a router needs', async () => {
    const { session, webhook } = await deliveredCompletedEvent();
    const verified = gateway.verifyWebhookEvent(
      webhook.rawBody,
      String(webhook.headers['stripe-signature']),
      TEST_WEBHOOK_SECRET,
    );
    assert.equal(verified.type, 'checkout.session.completed');
    assert.equal(verified.objectType, 'checkout.session');
    assert.equal(verified.checkoutSessionId, session.id);
    assert.equal(verified.purchaseId, session.clientReferenceId);
    assert.match(verified.paymentIntentId ?? '', /^pi_/);

    const charge = env.receiver.received.find((w) => w.event.type === 'charge.succeeded')!;
    const chargeEvent = gateway.verifyWebhookEvent(
      charge.rawBody,
      String(charge.headers['stripe-signature']),
      TEST_WEBHOOK_SECRET,
    );
    assert.equal(chargeEvent.chargeId, chargeEvent.objectId);
    assert.equal(chargeEvent.paymentIntentId, verified.paymentIntentId);
    assert.equal(chargeEvent.purchaseId, session.clientReferenceId);
  });

  it('refuses a changed body, a wrong secret, a stale or future timestamp and a missing header', async () => {
    const { webhook } = await deliveredCompletedEvent();
    const header = String(webhook.headers['stripe-signature']);
    const tampered = Buffer.from(webhook.rawBody.toString('utf8').replace('"paid"', '"unpaid"'));
    const stale = stripeSignatureHeader(
      webhook.rawBody.toString('utf8'),
      TEST_WEBHOOK_SECRET,
      Math.floor(Date.now() / 1000) - 301,
    );
    // Signed for a time more than the tolerance ahead: as replayable as a stale one, later.
    const future = stripeSignatureHeader(
      webhook.rawBody.toString('utf8'),
      TEST_WEBHOOK_SECRET,
      Math.floor(Date.now() / 1000) + 301,
    );
    const cases: Array<[Buffer, string, string]> = [
      [tampered, header, TEST_WEBHOOK_SECRET],
      [webhook.rawBody, header, 'whsec_someone_else'],
      [webhook.rawBody, stale, TEST_WEBHOOK_SECRET],
      [webhook.rawBody, future, TEST_WEBHOOK_SECRET],
      [webhook.rawBody, '', TEST_WEBHOOK_SECRET],
    ];
    for (const [body, signature, secret] of cases) {
      assert.throws(
        () => gateway.verifyWebhookEvent(body, signature, secret),
        (error: unknown) =>
          error instanceof StripeGatewayError &&
          error.kind === 'signature' &&
          !error.retryable &&
          !error.message.includes(secret),
      );
    }
    // Within the tolerance, an older timestamp is still fine.
    const recent = stripeSignatureHeader(
      webhook.rawBody.toString('utf8'),
      TEST_WEBHOOK_SECRET,
      Math.floor(Date.now() / 1000) - 200,
    );
    assert.equal(
      gateway.verifyWebhookEvent(webhook.rawBody, recent, TEST_WEBHOOK_SECRET).type,
      webhook.event.type,
    );
  });

  it('signs exactly as Stripe documents: HMAC-SHA256 of "t.payload"', () => {
    const payload = JSON.stringify({ id: 'evt_1', object: 'event' });
    const expected = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: TEST_WEBHOOK_SECRET,
      timestamp: 1_700_000_000,
    });
    assert.equal(stripeSignatureHeader(payload, TEST_WEBHOOK_SECRET, 1_700_000_000), expected);
  });
});
