import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { collectionNames } from '../../src/mongo/collections';
import { type StripeSandbox, startStripeSandbox } from '../../tools/stripe-sandbox/server';
import { stack, startTestApi, startTestWorker, uniqueTaskQueue } from '../helpers/env';
import { asPlugin, type Credentials, call, registerPlugin } from '../helpers/plugin-client';

// One purchase world per suite: the Stripe sandbox, the real API and a real worker on its own task
// queue, all on free ports, and a registered plugin that buys.

export const webhookSecret = 'whsec_purchase_suite_0123456789abcdef';
export const stripeKey = 'sk_test_purchase_suite';

export async function startPurchaseWorld(
  extra: Record<string, string> = {},
  options: { worker?: boolean } = {},
) {
  const taskQueue = uniqueTaskQueue('purchase');
  // The sandbox learns where to send webhooks once the API listens: a port picked in advance can be
  // taken meanwhile (an outgoing connection's source port comes from the same range).
  const sandbox: StripeSandbox = await startStripeSandbox({ port: 0, webhookUrl: null, webhookSecret });
  const settings = {
    TEMPORAL_TASK_QUEUE: taskQueue,
    STRIPE_SECRET_KEY: stripeKey,
    STRIPE_API_URL: sandbox.url,
    STRIPE_WEBHOOK_SECRET: webhookSecret,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    ...extra,
  };
  // Tests that kill workers run their own, as separate processes.
  const worker = options.worker === false ? undefined : await startTestWorker(taskQueue, settings);
  const api = await startTestApi(settings);
  const pointed = await fetch(`${sandbox.url}/_sandbox/webhooks`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ enabled: true, url: `${api.url}/api/v1/stripe/webhook` }),
  });
  assert.equal(pointed.status, 200, 'the sandbox takes the webhook URL');
  const plugin: Credentials = await registerPlugin(api.url);
  const asBuyer = asPlugin(api.url, plugin);

  async function control(path: string, body: Record<string, unknown> = {}, method = 'POST') {
    const response = await fetch(`${sandbox.url}/_sandbox/${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const parsed = await response.json();
    assert.equal(response.status, 200, JSON.stringify(parsed));
    return parsed as { object: Record<string, unknown>; events: Array<{ id: string; type: string }> };
  }

  return {
    taskQueue,
    sandbox,
    api,
    worker,
    plugin,
    settings,
    asBuyer,
    control,

    async buy(packageId = 'pkg_article_10', user = { id: randomUUID(), email: 'buyer@example.jp' }) {
      const packages = await call(api.url, 'GET', '/api/v1/packages');
      const pack = packages.body.packages.packages.find((p: { id: string }) => p.id === packageId);
      const created = await asBuyer('POST', '/api/v1/checkout/sessions', {
        body: {
          user_id: user.id,
          user_email: user.email,
          credit_type: pack.credit_type,
          package_id: pack.id,
          amount: pack.price,
          currency: pack.currency,
        },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      return { ...created.body, user, pack, credits: pack.credits + pack.bonus_credits } as {
        purchase_id: string;
        session_id: string;
        url: string;
        user: { id: string; email: string };
        pack: { id: string; credit_type: string };
        credits: number;
      };
    },

    async balance(user: { id: string; email: string }, creditType = 'article'): Promise<number> {
      const result = await asBuyer(
        'GET',
        `/api/v1/users/credits?user_id=${encodeURIComponent(user.id)}&user_email=${encodeURIComponent(user.email)}`,
      );
      assert.equal(result.status, 200, JSON.stringify(result.body));
      return result.body.credits[`${creditType}_credits`];
    },

    async purchase(purchaseId: string) {
      const result = await asBuyer('GET', `/api/v1/purchases/${purchaseId}`);
      assert.equal(result.status, 200, JSON.stringify(result.body));
      return result.body;
    },

    async waitForStatus(purchaseId: string, status: string | string[], timeoutMs = 30_000) {
      const wanted = Array.isArray(status) ? status : [status];
      const deadline = Date.now() + timeoutMs;
      // biome-ignore lint/suspicious/noExplicitAny: purchase bodies are checked field by field
      let last: any = {};
      while (Date.now() < deadline) {
        last = await this.purchase(purchaseId);
        if (last.status && wanted.includes(last.status)) return last;
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      throw new Error(`purchase ${purchaseId} is ${last.status}, not ${wanted.join('/')}`);
    },

    /** The ledger entries this purchase caused, by kind. */
    async entries(purchaseId: string) {
      const { db } = await stack();
      const docs = await db.collection(collectionNames.ledgerEntries).find({ ref: purchaseId }).toArray();
      const byKind: Record<string, number> = {};
      for (const doc of docs) byKind[doc.kind as string] = (byKind[doc.kind as string] ?? 0) + 1;
      return { docs, byKind };
    },

    async stop() {
      await api.stop();
      await worker?.stop();
      await sandbox.stop();
    },
  };
}

export type PurchaseWorld = Awaited<ReturnType<typeof startPurchaseWorld>>;
