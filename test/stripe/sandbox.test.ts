import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { createStripeGateway, type StripeGateway } from '../../src/stripe/gateway';
import { startStripeSandbox } from '../../tools/stripe-sandbox/server';
import {
  checkoutRequest,
  startTestSandbox,
  TEST_SECRET_KEY,
  TEST_WEBHOOK_SECRET,
  type TestSandbox,
} from './helpers';

// The sandbox's own surface: the hosted checkout page, the /_sandbox control endpoints, and the
// parts of Stripe's wire format the gateway does not show (headers, raw errors, pagination).

describe('stripe sandbox', () => {
  let env: TestSandbox;
  let gateway: StripeGateway;

  before(async () => {
    env = await startTestSandbox({ asyncSettleMs: 150 });
    gateway = env.gateway;
  });
  after(() => env.stop());
  beforeEach(async () => {
    env.receiver.clear();
    env.receiver.answerWith(200);
    await env.control('webhooks', { enabled: true });
  });

  const newSession = () => gateway.createCheckoutSession(checkoutRequest());

  /** Every delivered body verifies with the official library. */
  function assertAllSigned() {
    for (const webhook of env.receiver.received) {
      Stripe.webhooks.constructEvent(
        webhook.rawBody,
        String(webhook.headers['stripe-signature']),
        TEST_WEBHOOK_SECRET,
      );
    }
  }

  describe('checkout page', () => {
    it('renders the session with its amount and the four buttons', async () => {
      const session = await newSession();
      const response = await fetch(session.url!);
      assert.equal(response.status, 200);
      assert.match(String(response.headers.get('content-type')), /text\/html/);
      const html = await response.text();
      assert.ok(html.includes('750 JPY'), 'zero-decimal amount shown as is');
      assert.ok(html.includes('50 article credits'));
      assert.ok(html.includes(session.id));
      for (const action of ['pay', 'pay_async_success', 'pay_async_fail', 'cancel']) {
        assert.ok(html.includes(`value="${action}"`), action);
      }
    });

    it('Pay completes the session, posts the signed events, then redirects to success_url', async () => {
      const session = await newSession();
      const response = await fetch(session.url!, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'action=pay',
        redirect: 'manual',
      });
      assert.equal(response.status, 303);
      assert.equal(response.headers.get('location'), `https://shop.example/thanks?session=${session.id}`);
      // The redirect comes after delivery, so the events are already here.
      assert.deepEqual(env.receiver.types(), [
        'checkout.session.completed',
        'payment_intent.succeeded',
        'charge.succeeded',
      ]);
      assertAllSigned();
      const [completed, succeeded, charged] = env.receiver.received.map((w) => w.event.data.object);
      assert.equal(completed!.id, session.id);
      assert.equal(completed!.payment_status, 'paid');
      assert.equal(succeeded!.id, completed!.payment_intent);
      assert.equal(charged!.payment_intent, succeeded!.id);
      assert.equal((await gateway.retrieveCheckoutSession(session.id)).paymentStatus, 'paid');
    });

    it('Pay (async, later succeeds) completes unpaid, then settles by itself', async () => {
      const session = await newSession();
      const response = await fetch(session.url!, {
        method: 'POST',
        body: new URLSearchParams({ action: 'pay_async_success' }),
        redirect: 'manual',
      });
      assert.equal(response.status, 303);
      assert.equal((await gateway.retrieveCheckoutSession(session.id)).paymentStatus, 'unpaid');
      await env.receiver.waitFor((received) => received.some((w) => w.event.type === 'charge.succeeded'));
      assert.deepEqual(env.receiver.types(), [
        'checkout.session.completed',
        'payment_intent.processing',
        'charge.pending',
        'checkout.session.async_payment_succeeded',
        'payment_intent.succeeded',
        'charge.succeeded',
      ]);
      assert.equal((await gateway.retrieveCheckoutSession(session.id)).paymentStatus, 'paid');
    });

    it('Pay (async, later fails) ends unpaid with a failed PaymentIntent', async () => {
      const session = await newSession();
      await fetch(session.url!, {
        method: 'POST',
        body: new URLSearchParams({ action: 'pay_async_fail' }),
        redirect: 'manual',
      });
      await env.receiver.waitFor((received) => received.some((w) => w.event.type === 'charge.failed'));
      assert.ok(env.receiver.types().includes('checkout.session.async_payment_failed'));
      const read = await gateway.retrieveCheckoutSession(session.id);
      assert.equal(read.status, 'complete');
      assert.equal(read.paymentStatus, 'unpaid');
      assert.equal(read.paymentIntent?.status, 'requires_payment_method');
      assert.equal(read.paymentIntent?.lastPaymentError?.code, 'card_declined');
    });

    it('Cancel goes back to cancel_url and leaves the session open', async () => {
      const session = await newSession();
      const response = await fetch(session.url!, {
        method: 'POST',
        body: 'action=cancel',
        redirect: 'manual',
      });
      assert.equal(response.status, 303);
      assert.equal(response.headers.get('location'), 'https://shop.example/cancelled');
      assert.equal((await gateway.retrieveCheckoutSession(session.id)).status, 'open');
      assert.equal(env.receiver.received.length, 0);
    });

    it('a paid session cannot be paid again', async () => {
      const session = await newSession();
      await env.control(`checkout/sessions/${session.id}/pay`);
      const again = await fetch(session.url!, { method: 'POST', body: 'action=pay', redirect: 'manual' });
      assert.equal(again.status, 409);
      const repeat = await env.control(`checkout/sessions/${session.id}/pay`);
      assert.equal(repeat.status, 400);
      assert.match(repeat.body.error.message, /complete/);
    });
  });

  describe('control endpoints', () => {
    it('pays asynchronously with a success, answering after all six events were delivered', async () => {
      const session = await newSession();
      const result = await env.control(`checkout/sessions/${session.id}/pay`, { outcome: 'async_succeeded' });
      assert.equal(result.status, 200);
      assert.equal(result.body.object.payment_status, 'paid');
      assert.equal(result.body.events.length, 6);
      for (const event of result.body.events) assert.equal(event.deliveries[0].status, 200);
      assert.equal(env.receiver.received.length, 6);
      assertAllSigned();
    });

    it('keeps a processing payment until told to settle it', async () => {
      const session = await newSession();
      await env.control(`checkout/sessions/${session.id}/pay`, { outcome: 'processing' });
      const intentId = (await gateway.retrieveCheckoutSession(session.id)).paymentIntentId!;
      assert.equal((await gateway.retrievePaymentIntent(intentId)).status, 'processing');
      const settled = await env.control(`payment_intents/${intentId}/fail`, {
        decline_code: 'insufficient_funds',
      });
      assert.equal(settled.body.object.status, 'requires_payment_method');
      assert.equal(settled.body.object.last_payment_error.decline_code, 'insufficient_funds');
      assert.deepEqual(env.receiver.types().slice(-3), [
        'checkout.session.async_payment_failed',
        'payment_intent.payment_failed',
        'charge.failed',
      ]);
    });

    it('expires a session and sends checkout.session.expired', async () => {
      const session = await newSession();
      const result = await env.control(`checkout/sessions/${session.id}/expire`);
      assert.equal(result.body.object.status, 'expired');
      assert.deepEqual(env.receiver.types(), ['checkout.session.expired']);
      assert.equal((await gateway.retrieveCheckoutSession(session.id)).status, 'expired');
    });

    it('the API expire also sends checkout.session.expired, after answering', async () => {
      const session = await newSession();
      await gateway.expireCheckoutSession(session.id);
      await env.receiver.waitFor((received) => received.length === 1);
      assert.equal(env.receiver.received[0]!.event.type, 'checkout.session.expired');
    });

    it('refunds partially then fully, with amount_refunded on each charge.refunded', async () => {
      const session = await newSession();
      const paid = await env.control(`checkout/sessions/${session.id}/pay`, { send_webhooks: false });
      assert.equal(paid.status, 200);
      const chargeId = (await gateway.retrieveCheckoutSession(session.id)).paymentIntent!.latestChargeId!;
      const partial = await env.control(`charges/${chargeId}/refund`, { amount: 300 });
      assert.equal(partial.body.object.amount_refunded, 300);
      assert.equal(partial.body.object.refunded, false);
      const rest = await env.control(`charges/${chargeId}/refund`);
      assert.equal(rest.body.object.amount_refunded, 750);
      assert.equal(rest.body.object.refunded, true);
      const refunded = env.receiver.received.map((w) => w.event.data.object);
      assert.deepEqual(
        refunded.map((charge) => [charge.amount_refunded, charge.refunded]),
        [
          [300, false],
          [750, true],
        ],
      );
      assert.equal((refunded[1]!.refunds as { data: unknown[] }).data.length, 2);
      const tooMuch = await env.control(`charges/${chargeId}/refund`, { amount: 1 });
      assert.equal(tooMuch.status, 400);
    });

    it('opens a dispute and closes it won or lost', async () => {
      for (const outcome of ['won', 'lost'] as const) {
        env.receiver.clear();
        const session = await newSession();
        await env.control(`checkout/sessions/${session.id}/pay`, { send_webhooks: false });
        const chargeId = (await gateway.retrieveCheckoutSession(session.id)).paymentIntent!.latestChargeId!;
        const opened = await env.control(`charges/${chargeId}/dispute`, { reason: 'fraudulent' });
        assert.match(opened.body.object.id, /^du_/);
        assert.equal(opened.body.object.status, 'needs_response');
        const closed = await env.control(`disputes/${opened.body.object.id}/close`, { status: outcome });
        assert.equal(closed.body.object.status, outcome);
        assert.deepEqual(env.receiver.types(), ['charge.dispute.created', 'charge.dispute.closed']);
        const [created, closedEvent] = env.receiver.received.map((w) => w.event.data.object);
        assert.equal(created!.charge, chargeId);
        assert.equal(created!.payment_intent, (await gateway.retrieveCharge(chargeId)).paymentIntentId);
        assert.equal(closedEvent!.status, outcome);
      }
    });

    it('sends a batch in reverse order, or each event several times', async () => {
      const session = await newSession();
      await env.control(`checkout/sessions/${session.id}/pay`, { order: 'reverse' });
      assert.deepEqual(env.receiver.types(), [
        'charge.succeeded',
        'payment_intent.succeeded',
        'checkout.session.completed',
      ]);

      env.receiver.clear();
      const twice = await newSession();
      await env.control(`checkout/sessions/${twice.id}/expire`, { times: 3 });
      const ids = env.receiver.received.map((w) => w.event.id);
      assert.equal(ids.length, 3);
      assert.equal(new Set(ids).size, 1, 'the same event id each time');
    });

    it('records but does not send events while webhooks are off, and resends them later by id', async () => {
      await env.control('webhooks', { enabled: false });
      const session = await newSession();
      const paid = await env.control(`checkout/sessions/${session.id}/pay`);
      assert.equal(env.receiver.received.length, 0);
      const eventIds: string[] = paid.body.events.map((event: { id: string }) => event.id);
      for (const event of paid.body.events) assert.deepEqual(event.deliveries, []);

      // What a reconciliation job sees without any webhook: the session is paid.
      const recent = await gateway.listRecentCheckoutSessions({
        createdSince: new Date(Date.now() - 60_000),
        limit: 100,
      });
      assert.equal(recent.items.find((item) => item.id === session.id)?.paymentStatus, 'paid');

      const listed = (await (
        await fetch(`${env.sandbox.url}/_sandbox/events?object_id=${session.id}`)
      ).json()) as {
        events: Array<{ id: string; type: string }>;
      };
      assert.deepEqual(
        listed.events.map((event) => event.type),
        ['checkout.session.completed'],
      );

      // Resend in any order: last first, and one of them twice.
      const order = [eventIds[2]!, eventIds[0]!, eventIds[0]!];
      const resent = await env.control('events/resend', { ids: order });
      assert.equal(resent.status, 200);
      assert.deepEqual(
        env.receiver.received.map((w) => w.event.id),
        order,
      );
      assertAllSigned();
    });

    it('shows each delivery with the status the receiver answered', async () => {
      env.receiver.answerWith(500);
      const session = await newSession();
      const expired = await env.control(`checkout/sessions/${session.id}/expire`);
      const eventId = expired.body.events[0].id;
      env.receiver.answerWith(204);
      await env.control('events/resend', { ids: [eventId] });
      const detail = (await (await fetch(`${env.sandbox.url}/_sandbox/events/${eventId}`)).json()) as {
        event: { type: string };
        deliveries: Array<{ status: number; url: string; durationMs: number }>;
      };
      assert.equal(detail.event.type, 'checkout.session.expired');
      assert.deepEqual(
        detail.deliveries.map((delivery) => delivery.status),
        [500, 204],
      );
      assert.equal(detail.deliveries[0]!.url, env.receiver.url);
    });

    it('refuses bad control input with a 400 and changes nothing', async () => {
      const session = await newSession();
      const bad = await env.control(`checkout/sessions/${session.id}/pay`, { outcome: 'maybe' });
      assert.equal(bad.status, 400);
      const badOrder = await env.control(`checkout/sessions/${session.id}/pay`, { order: 'sideways' });
      assert.equal(badOrder.status, 400);
      assert.equal((await gateway.retrieveCheckoutSession(session.id)).status, 'open');
      const missing = await env.control('checkout/sessions/cs_test_nope/pay');
      assert.equal(missing.status, 404);
    });
  });

  describe('wire format', () => {
    const api = (path: string, init: RequestInit = {}, key = TEST_SECRET_KEY) =>
      fetch(`${env.sandbox.url}${path}`, {
        ...init,
        headers: {
          Authorization: `Bearer ${key}`,
          'Content-Type': 'application/x-www-form-urlencoded',
          ...(init.headers as Record<string, string>),
        },
      });

    const sessionForm = new URLSearchParams({
      mode: 'payment',
      success_url: 'https://shop.example/ok',
      'line_items[0][quantity]': '1',
      'line_items[0][price_data][currency]': 'jpy',
      'line_items[0][price_data][unit_amount]': '750',
      'line_items[0][price_data][product_data][name]': 'credits',
      'metadata[purchase_id]': 'pur_wire',
    }).toString();

    it('answers 401 in Stripe error shape without a test key', async () => {
      const headerSets: Array<Record<string, string>> = [
        {},
        { Authorization: 'Bearer pk_test_123' },
        { Authorization: 'Bearer sk_live_123' },
      ];
      for (const headers of headerSets) {
        const response = await fetch(`${env.sandbox.url}/v1/charges/ch_1`, { headers });
        assert.equal(response.status, 401);
        const body = (await response.json()) as { error: { type: string; message: string } };
        assert.equal(body.error.type, 'invalid_request_error');
        assert.equal(typeof body.error.message, 'string');
        assert.ok(!body.error.message.includes('_123'), 'the key is not echoed');
      }
    });

    it('replays an Idempotency-Key with Idempotent-Replayed: true', async () => {
      const key = `wire-${Date.now()}`;
      const first = await api('/v1/checkout/sessions', {
        method: 'POST',
        body: sessionForm,
        headers: { 'Idempotency-Key': key },
      });
      const second = await api('/v1/checkout/sessions', {
        method: 'POST',
        body: sessionForm,
        headers: { 'Idempotency-Key': key },
      });
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      const [a, b] = [(await first.json()) as { id: string }, (await second.json()) as { id: string }];
      assert.equal(a.id, b.id);
      const third = await api('/v1/checkout/sessions', { method: 'POST', body: sessionForm });
      assert.notEqual(((await third.json()) as { id: string }).id, a.id, 'no key, new session');
    });

    it('returns Stripe-shaped objects and honours expand[]', async () => {
      const created = (await (
        await api('/v1/checkout/sessions', { method: 'POST', body: sessionForm })
      ).json()) as Record<string, unknown>;
      assert.equal(created.object, 'checkout.session');
      assert.equal(created.livemode, false);
      assert.equal(typeof created.created, 'number');
      await env.control(`checkout/sessions/${created.id}/pay`, { send_webhooks: false });
      const plain = (await (await api(`/v1/checkout/sessions/${created.id}`)).json()) as {
        payment_intent: unknown;
      };
      assert.match(String(plain.payment_intent), /^pi_/);
      const expanded = (await (
        await api(`/v1/checkout/sessions/${created.id}?expand[]=payment_intent.latest_charge`)
      ).json()) as { payment_intent: { object: string; latest_charge: { object: string; amount: number } } };
      assert.equal(expanded.payment_intent.object, 'payment_intent');
      assert.equal(expanded.payment_intent.latest_charge.object, 'charge');
      assert.equal(expanded.payment_intent.latest_charge.amount, 750);
      const refused = await api(`/v1/checkout/sessions/${created.id}?expand[]=customer_email`);
      assert.equal(refused.status, 400);
    });

    it('pages lists with limit and starting_after, newest first', async () => {
      const fresh = await startStripeSandbox({
        port: 0,
        webhookUrl: null,
        webhookSecret: TEST_WEBHOOK_SECRET,
      });
      try {
        const call = (path: string, body?: string) =>
          fetch(`${fresh.url}${path}`, {
            method: body ? 'POST' : 'GET',
            headers: {
              Authorization: `Bearer ${TEST_SECRET_KEY}`,
              'Content-Type': 'application/x-www-form-urlencoded',
            },
            body,
          }).then((response) => response.json() as Promise<Record<string, unknown>>);
        const ids: string[] = [];
        for (let i = 0; i < 5; i += 1)
          ids.push(String((await call('/v1/payment_intents', 'amount=100&currency=usd')).id));
        const first = (await call('/v1/payment_intents?limit=2')) as {
          data: Array<{ id: string }>;
          has_more: boolean;
          url: string;
          object: string;
        };
        assert.equal(first.object, 'list');
        assert.equal(first.url, '/v1/payment_intents');
        assert.deepEqual(
          first.data.map((item) => item.id),
          [ids[4], ids[3]],
        );
        assert.equal(first.has_more, true);
        const rest = (await call(`/v1/payment_intents?limit=10&starting_after=${ids[3]}`)) as {
          data: Array<{ id: string }>;
          has_more: boolean;
        };
        assert.deepEqual(
          rest.data.map((item) => item.id),
          [ids[2], ids[1], ids[0]],
        );
        assert.equal(rest.has_more, false);
        const tooBig = await fetch(`${fresh.url}/v1/payment_intents?limit=101`, {
          headers: { Authorization: `Bearer ${TEST_SECRET_KEY}` },
        });
        assert.equal(tooBig.status, 400);
      } finally {
        await fresh.stop();
      }
    });

    it('refuses unknown parameters and unknown URLs like Stripe', async () => {
      const unknown = await api('/v1/payment_intents', {
        method: 'POST',
        body: 'amount=100&currency=usd&colour=red',
      });
      assert.equal(unknown.status, 400);
      const body = (await unknown.json()) as { error: { code: string; param: string } };
      assert.equal(body.error.code, 'parameter_unknown');
      assert.equal(body.error.param, 'colour');
      assert.equal((await api('/v1/customers')).status, 404);
    });
  });

  it('keeps its state in a JSON file across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stripe-sandbox-'));
    const stateFile = join(dir, 'state.json');
    try {
      const first = await startStripeSandbox({
        port: 0,
        webhookUrl: null,
        webhookSecret: TEST_WEBHOOK_SECRET,
        stateFile,
      });
      const gatewayOne = createStripeGateway({ secretKey: TEST_SECRET_KEY, apiUrl: first.url });
      const session = await gatewayOne.createCheckoutSession(checkoutRequest());
      await first.stop();

      const second = await startStripeSandbox({
        port: 0,
        webhookUrl: null,
        webhookSecret: TEST_WEBHOOK_SECRET,
        stateFile,
      });
      try {
        const gatewayTwo = createStripeGateway({ secretKey: TEST_SECRET_KEY, apiUrl: second.url });
        const read = await gatewayTwo.retrieveCheckoutSession(session.id);
        assert.equal(read.amountTotal, 750);
        assert.equal(read.status, 'open');
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
