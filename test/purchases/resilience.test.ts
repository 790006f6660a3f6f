import assert from 'node:assert/strict';
import { createMongo } from '../../src/mongo/client';
import type { RunningServer } from '../../tools/stack/servers';
import { stack, startTestApi } from '../helpers/env';
import { call, registerPlugin } from '../helpers/plugin-client';
import { privateMongo } from '../helpers/private-mongo';
import { startWorkerProcess } from '../helpers/worker-process';
import { startPurchaseWorld } from './harness';

// Purchases that meet failures on the way: a worker killed mid-fulfilment, the database gone for a
// few seconds, the PaymentIntent flow confirmed by the plugin, Stripe not configured at all.

describe('purchases under failure', function () {
  this.timeout(180_000);

  it('a worker killed mid-fulfilment: a new worker finishes it and the credits arrive exactly once', async () => {
    const world = await startPurchaseWorld({}, { worker: false });
    const first = await startWorkerProcess(world.settings);
    let second: Awaited<ReturnType<typeof startWorkerProcess>> | undefined;
    try {
      const purchase = await world.buy();
      const before = await world.balance(purchase.user);
      // Stripe answers the fulfilment's read-back slowly: the worker is killed while it waits.
      await world.control('faults', {
        delay_ms: 4_000,
        path_prefix: `/v1/checkout/sessions/${purchase.session_id}`,
      });
      await world.control(`checkout/sessions/${purchase.session_id}/pay`);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await first.kill();
      assert.equal((await world.purchase(purchase.purchase_id)).status, 'pending');

      second = await startWorkerProcess(world.settings);
      // The killed attempt times out (30 s) and is retried on the new worker.
      await world.waitForStatus(purchase.purchase_id, 'fulfilled', 90_000);
      assert.equal(await world.balance(purchase.user), before + purchase.credits);
      assert.deepEqual((await world.entries(purchase.purchase_id)).byKind, { purchase: 1 });
    } finally {
      await first.kill();
      await second?.stop();
      await world.stop();
    }
  });

  it('MongoDB gone for a few seconds mid-purchase: the workflow retries and completes when it is back', async () => {
    const db = await privateMongo();
    const startDb = db.start;
    let mongo: RunningServer | undefined = await startDb();
    const world = await startPurchaseWorld({ MONGODB_URL: db.url }, { worker: false });
    const worker = await startWorkerProcess(world.settings);
    try {
      const purchase = await world.buy();
      const before = await world.balance(purchase.user);
      await world.control('faults', {
        delay_ms: 3_000,
        path_prefix: `/v1/checkout/sessions/${purchase.session_id}`,
      });
      await world.control(`checkout/sessions/${purchase.session_id}/pay`); // the API accepted the webhook
      await mongo.kill(); // while the workflow reads the payment back from Stripe
      mongo = undefined;
      // Longer than the driver's 5 s server selection: activity attempts really fail meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 9_000));
      mongo = await startDb();
      await world.waitForStatus(purchase.purchase_id, 'fulfilled', 90_000);
      assert.equal(await world.balance(purchase.user), before + purchase.credits);
      assert.deepEqual(await purchaseEntryKinds(db.url, purchase.purchase_id), { purchase: 1 });
      assert.match(
        worker.output(),
        /"msg":"Activity failed"/,
        `the outage was seen:\n${worker.output().slice(-3000)}`,
      );
    } finally {
      await worker.stop();
      await world.stop();
      await mongo?.stop();
    }
  });

  it('the PaymentIntent flow: create-intent, the buyer pays, payments/confirm answers with the credits', async () => {
    const world = await startPurchaseWorld();
    try {
      const user = { id: '1001', email: 'intent@example.jp' };
      const created = await world.asBuyer('POST', '/api/v1/payments/create-intent', {
        body: {
          user_id: 1001,
          user_email: user.email,
          credit_type: 'image',
          package_id: 'pkg_image_10',
          amount: 1000,
          currency: 'JPY',
        },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.match(created.body.payment_intent_id, /^pi_/);
      assert.match(created.body.client_secret, /_secret_/);
      const before = await world.balance(user, 'image');

      const pending = await world.asBuyer('POST', '/api/v1/payments/confirm', {
        body: { payment_intent_id: created.body.payment_intent_id },
      });
      // Stripe says unpaid: the plugin is told so, and its user is not told "credits added".
      assert.equal(pending.status, 402, JSON.stringify(pending.body));
      assert.equal(pending.body.success, false);
      assert.equal(pending.body.error, 'payment_not_completed');
      assert.equal(pending.body.payment_status, 'unpaid');

      // The buyer pays; the webhook is lost, and the plugin's confirm call is what fulfils it.
      await world.control(`payment_intents/${created.body.payment_intent_id}/succeed`, {
        send_webhooks: false,
      });
      const confirmed = await world.asBuyer('POST', '/api/v1/payments/confirm', {
        body: { payment_intent_id: created.body.payment_intent_id },
      });
      assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
      assert.equal(confirmed.body.status, 'fulfilled');
      assert.equal(confirmed.body.credits_added, 10);
      assert.equal(confirmed.body.remaining_credits.image_credits, before + 10);
      assert.deepEqual((await world.entries(created.body.purchase_id)).byKind, { purchase: 1 });

      // Another instance cannot confirm (or even see) this payment.
      const stranger = await registerPlugin(world.api.url);
      const foreign = await call(world.api.url, 'POST', '/api/v1/payments/confirm', {
        token: stranger.api_token,
        instanceId: stranger.instance_id,
        body: { payment_intent_id: created.body.payment_intent_id },
      });
      assert.equal(foreign.status, 404);
    } finally {
      await world.stop();
    }
  });

  it('the same Idempotency-Key makes one purchase; another body with it is 409', async () => {
    const world = await startPurchaseWorld();
    try {
      const body = {
        user_id: 5,
        user_email: 'k@example.jp',
        credit_type: 'article',
        package_id: 'pkg_article_10',
        amount: 750,
        currency: 'JPY',
      };
      const headers = { 'Idempotency-Key': 'checkout-5-1' };
      const first = await world.asBuyer('POST', '/api/v1/checkout/sessions', { body, headers });
      const again = await world.asBuyer('POST', '/api/v1/checkout/sessions', { body, headers });
      assert.equal(first.status, 200);
      assert.equal(again.status, 200);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body.purchase_id, first.body.purchase_id);
      assert.equal(again.body.session_id, first.body.session_id);
      const other = await world.asBuyer('POST', '/api/v1/checkout/sessions', {
        body: { ...body, user_id: 6 },
        headers,
      });
      assert.equal(other.status, 409);
      assert.equal(other.body.error, 'idempotency_conflict');
    } finally {
      await world.stop();
    }
  });

  it('each purchase run is findable in Temporal by its search attributes', async () => {
    const world = await startPurchaseWorld();
    try {
      const purchase = await world.buy();
      await world.control(`checkout/sessions/${purchase.session_id}/pay`);
      await world.waitForStatus(purchase.purchase_id, 'fulfilled');
      const { temporal } = await stack();
      const query = `RakubunPurchaseId = "${purchase.purchase_id}" AND RakubunInstanceId = "${world.plugin.instance_id}" AND RakubunPurchaseStatus = "fulfilled" AND RakubunStripeSessionId = "${purchase.session_id}"`;
      let found: string[] = [];
      for (let attempt = 0; attempt < 50 && found.length === 0; attempt += 1) {
        found = [];
        for await (const run of temporal.client.workflow.list({ query })) found.push(run.workflowId);
        if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.deepEqual(found, [`purchase:${purchase.purchase_id}`]);
    } finally {
      await world.stop();
    }
  });

  it('without Stripe configured, purchases answer 500 payment_not_configured and webhooks 503', async () => {
    const api = await startTestApi({ STRIPE_SECRET_KEY: '', STRIPE_API_URL: '', STRIPE_WEBHOOK_SECRET: '' });
    try {
      const plugin = await registerPlugin(api.url);
      const result = await call(api.url, 'POST', '/api/v1/checkout/sessions', {
        token: plugin.api_token,
        instanceId: plugin.instance_id,
        body: {
          user_id: 1,
          user_email: 'a@b.jp',
          credit_type: 'article',
          package_id: 'pkg_article_10',
          amount: 750,
          currency: 'JPY',
        },
      });
      assert.equal(result.status, 500);
      assert.equal(result.body.error, 'payment_not_configured');
      const webhook = await call(api.url, 'POST', '/api/v1/stripe/webhook', { body: {} });
      assert.equal(webhook.status, 503);
      const health = await call(api.url, 'GET', '/api/v1/stripe/webhook/health');
      assert.equal(health.status, 503);
      assert.equal(health.body.configured, false);
    } finally {
      await api.stop();
    }
  });
});

/** Ledger entries of a purchase in the private database of the MongoDB-outage test. */
async function purchaseEntryKinds(url: string, purchaseId: string) {
  const mongo = createMongo({
    MONGODB_URL: url,
    MONGODB_DATABASE: process.env.MONGODB_DATABASE!,
  });
  try {
    const docs = await mongo.db.collection('ledger_entries').find({ ref: purchaseId }).toArray();
    const byKind: Record<string, number> = {};
    for (const doc of docs) byKind[doc.kind as string] = (byKind[doc.kind as string] ?? 0) + 1;
    return byKind;
  } finally {
    await mongo.client.close();
  }
}

describe('purchase deadlines', function () {
  this.timeout(60_000);

  /** Restarts a purchase's workflow as if its pay-by time had passed (the terms are loaded at start). */
  async function passDeadline(world: Awaited<ReturnType<typeof startPurchaseWorld>>, purchaseId: string) {
    const { db, temporal } = await stack();
    await db
      .collection('purchases')
      .updateOne(
        { purchase_id: purchaseId },
        { $set: { pay_by: new Date(Date.now() - 1000).toISOString() } },
      );
    await temporal.client.workflow
      .getHandle(`purchase:${purchaseId}`)
      .terminate('test: restart past the deadline');
    await temporal.client.workflow.start('purchaseWorkflow', {
      taskQueue: world.taskQueue,
      workflowId: `purchase:${purchaseId}`,
      args: [{ purchase_id: purchaseId, deadline_grace_ms: 0 }],
    });
  }

  it('a session that expires with no event at all: Stripe is asked, the session closed, the purchase expired', async () => {
    const world = await startPurchaseWorld();
    try {
      const purchase = await world.buy();
      await passDeadline(world, purchase.purchase_id);
      await world.waitForStatus(purchase.purchase_id, 'expired');
      const session = await fetch(`${world.sandbox.url}/v1/checkout/sessions/${purchase.session_id}`, {
        headers: { Authorization: `Bearer ${world.settings.STRIPE_SECRET_KEY}` },
      }).then((response) => response.json());
      assert.equal(session.status, 'expired', 'the workflow expired the open session at Stripe');
      assert.deepEqual((await world.entries(purchase.purchase_id)).byKind, {});
    } finally {
      await world.stop();
    }
  });

  it('paid at Stripe but no event ever came: the deadline check finds the payment and fulfils it', async () => {
    const world = await startPurchaseWorld();
    try {
      const purchase = await world.buy();
      await world.control(`checkout/sessions/${purchase.session_id}/pay`, { send_webhooks: false });
      const before = await world.balance(purchase.user);
      await passDeadline(world, purchase.purchase_id);
      await world.waitForStatus(purchase.purchase_id, 'fulfilled');
      assert.equal(await world.balance(purchase.user), before + purchase.credits);
      assert.deepEqual((await world.entries(purchase.purchase_id)).byKind, { purchase: 1 });
    } finally {
      await world.stop();
    }
  });
});
