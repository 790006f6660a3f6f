import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import type { Db } from 'mongodb';
import { collectionNames } from '../../src/mongo/collections';
import { startBroadcast } from '../../src/webhooks/broadcast';
import { ensureDelivery } from '../../src/webhooks/deliveries';
import { newEventDoc, storeEvent } from '../../src/webhooks/events';
import { publishEvent } from '../../src/webhooks/publish';
import { call as adminCall } from '../helpers/http';
import { asPlugin, call, registerPlugin } from '../helpers/plugin-client';
import type { PurchaseWorld } from '../purchases/harness';
import type { Harness } from '../webhooks/harness';
import type { Receiver, Responder } from '../webhooks/receiver';

// What each replay fixture is a recording of: a scenario drives one or more workflows through the
// path it names, on the private stack that record-fixtures.ts starts, and returns the runs to record.
// Workflow types, signals and queries are named by string on purpose: the recorder must keep working
// while workflows/ is rearranged, since its whole point is to check that rearranging is safe.

export interface Execution {
  workflowId: string;
  runId: string;
}

export interface RecorderContext {
  client: Client;
  db: Db;
  nativeConnection: NativeConnection;
  /** One purchase world for the scenarios that share it (Stripe sandbox, API, worker). */
  purchases(): Promise<PurchaseWorld>;
  /** A new purchase world with a Stripe sandbox of its own (reconciliation lists the sandbox). */
  freshPurchases(): Promise<PurchaseWorld>;
  /** One webhook harness (API and worker on their own task queue, private networks allowed). */
  webhooks(): Promise<Harness>;
  /** A plugin site on 127.0.0.1, closed when the recorder stops. */
  receiver(responder?: Responder): Promise<Receiver>;
}

export interface Scenario {
  /** The fixtures it records, each `<name>.history.pb`. */
  fixtures: string[];
  /** Folder under test/replay (default `histories`, which the replay suite replays). */
  dir?: string;
  record(ctx: RecorderContext): Promise<Record<string, Execution>>;
}

// ---------------------------------------------------------------------------------------------------
// helpers

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const purchaseWorkflowId = (purchaseId: string) => `purchase:${purchaseId}`;

interface PurchaseViewLike {
  status: string;
  stripe_charge_id?: string;
  refunded_amount?: number;
  dispute?: { status: string };
}

function purchaseView(ctx: RecorderContext, purchaseId: string) {
  return ctx.client.workflow
    .getHandle(purchaseWorkflowId(purchaseId))
    .query<PurchaseViewLike>('purchaseView');
}

function viewWhere(
  ctx: RecorderContext,
  purchaseId: string,
  predicate: (view: PurchaseViewLike) => boolean,
  what: string,
) {
  return until(`purchase ${purchaseId}: ${what}`, async () => {
    const view = await purchaseView(ctx, purchaseId);
    return predicate(view) ? view : undefined;
  });
}

/** The run that is current now (an API- or signal-started workflow). */
async function currentRun(ctx: RecorderContext, workflowId: string): Promise<Execution> {
  const described = await ctx.client.workflow.getHandle(workflowId).describe();
  return { workflowId, runId: described.runId };
}

const shops = new WeakMap<PurchaseWorld, ReturnType<typeof openShop>>();

/** A plugin on the world's API whose site is a local receiver (its credits_updated webhooks stay here). */
async function openShop(ctx: RecorderContext, world: PurchaseWorld) {
  const site = await ctx.receiver();
  const plugin = await registerPlugin(world.api.url, { site_url: site.url });
  const asShop = asPlugin(world.api.url, plugin);
  const packages = await call(world.api.url, 'GET', '/api/v1/packages');
  const pack = packages.body.packages.packages.find((p: { id: string }) => p.id === 'pkg_article_10');
  if (!pack) throw new Error('package pkg_article_10 not found');
  let buyers = 0;
  return {
    pack,
    /** A Checkout purchase by a new buyer: the API stores it and starts its workflow. */
    async checkout(): Promise<{ purchase_id: string; session_id: string }> {
      buyers += 1;
      const created = await asShop('POST', '/api/v1/checkout/sessions', {
        body: {
          user_id: `buyer-${buyers}`,
          user_email: `buyer-${buyers}@example.jp`,
          credit_type: pack.credit_type,
          package_id: pack.id,
          amount: pack.price,
          currency: pack.currency,
        },
      });
      if (created.status !== 200)
        throw new Error(`checkout: ${created.status} ${JSON.stringify(created.body)}`);
      return created.body;
    },
  };
}

async function shopOf(ctx: RecorderContext, world: PurchaseWorld) {
  let shop = shops.get(world);
  if (!shop) {
    shop = openShop(ctx, world);
    shops.set(world, shop);
  }
  return shop;
}

/** A purchase paid in the sandbox and fulfilled; answers its charge. */
async function fulfilledPurchase(ctx: RecorderContext) {
  const world = await ctx.purchases();
  const purchase = await (await shopOf(ctx, world)).checkout();
  await world.control(`checkout/sessions/${purchase.session_id}/pay`);
  const view = await viewWhere(
    ctx,
    purchase.purchase_id,
    (v) => v.status === 'fulfilled' && v.stripe_charge_id !== undefined,
    'fulfilled',
  );
  return { world, purchase, chargeId: view.stripe_charge_id! };
}

/**
 * Replaces the run the API started with one of the given input (short windows), before anything
 * happened to the purchase: the code path is the production one, only its waits are shorter.
 */
async function restartPurchase(
  ctx: RecorderContext,
  world: PurchaseWorld,
  purchaseId: string,
  input: { deadline_grace_ms?: number; after_sale_ms?: number },
): Promise<Execution> {
  const workflowId = purchaseWorkflowId(purchaseId);
  await ctx.client.workflow.getHandle(workflowId).terminate('restarted by the fixture recorder');
  const handle = await ctx.client.workflow.start('purchaseWorkflow', {
    taskQueue: world.taskQueue,
    workflowId,
    args: [{ purchase_id: purchaseId, ...input }],
  });
  return { workflowId, runId: handle.firstExecutionRunId };
}

async function finished(ctx: RecorderContext, run: Execution): Promise<Execution> {
  await ctx.client.workflow.getHandle(run.workflowId, run.runId).result();
  return run;
}

/** Once the run has ended, however it ended (a failed purchase ends as a failed run). */
async function ended(ctx: RecorderContext, run: Execution): Promise<Execution> {
  await ctx.client.workflow
    .getHandle(run.workflowId, run.runId)
    .result()
    .catch(() => undefined);
  return run;
}

interface RetrySchedule {
  retry_delays_ms: number[];
  window_ms: number;
  jitter: number;
  on_exhausted: 'dead_letter' | 'fail';
}

const quickSchedule = (stepMs: number, windowMs: number): RetrySchedule => ({
  retry_delays_ms: [stepMs],
  window_ms: windowMs,
  jitter: 0.1,
  on_exhausted: 'dead_letter',
});

/**
 * A delivery run by the legacy per-delivery workflow, as it was started before the per-endpoint
 * engine: the event and its delivery record are stored (no queue entry), then the workflow.
 */
async function legacyDelivery(ctx: RecorderContext, responder: Responder, schedule: RetrySchedule) {
  const h = await ctx.webhooks();
  const site = await ctx.receiver(responder);
  const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
  const event = newEventDoc({
    instance_id: plugin.instance_id,
    event_type: 'config_updated',
    data: { key: 'openai', updated_at: new Date().toISOString() },
  });
  await storeEvent(h.db, event);
  const { delivery } = await ensureDelivery(h.db, event, 'default', { status: 'pending' });
  const workflowId = `webhook-delivery:${delivery.delivery_id}`;
  const handle = await ctx.client.workflow.start('webhookDeliveryWorkflow', {
    taskQueue: h.taskQueue,
    workflowId,
    args: [
      {
        delivery_id: delivery.delivery_id,
        event_id: event.event_id,
        endpoint_id: 'default',
        instance_id: plugin.instance_id,
        event_type: event.event_type,
        schedule,
        replay: false,
      },
    ],
  });
  return finished(ctx, { workflowId, runId: handle.firstExecutionRunId });
}

// ---------------------------------------------------------------------------------------------------
// the scenarios

export const scenarios: Record<string, Scenario> = {
  'purchase-checkout-expired': {
    fixtures: ['purchase-checkout-expired'],
    async record(ctx) {
      const world = await ctx.purchases();
      const purchase = await (await shopOf(ctx, world)).checkout();
      await world.control(`checkout/sessions/${purchase.session_id}/expire`);
      const run = await currentRun(ctx, purchaseWorkflowId(purchase.purchase_id));
      return { 'purchase-checkout-expired': await finished(ctx, run) };
    },
  },

  'purchase-checkout-async-failed': {
    fixtures: ['purchase-checkout-async-failed'],
    async record(ctx) {
      const world = await ctx.purchases();
      const purchase = await (await shopOf(ctx, world)).checkout();
      await world.control(`checkout/sessions/${purchase.session_id}/pay`, { outcome: 'async_failed' });
      const run = await currentRun(ctx, purchaseWorkflowId(purchase.purchase_id));
      return { 'purchase-checkout-async-failed': await finished(ctx, run) };
    },
  },

  'purchase-checkout-deadline-closed': {
    fixtures: ['purchase-checkout-deadline-closed'],
    async record(ctx) {
      // Nobody pays and no event comes: at the deadline the workflow expires the session itself.
      const world = await ctx.purchases();
      const purchase = await (await shopOf(ctx, world)).checkout();
      await ctx.db
        .collection(collectionNames.purchases)
        .updateOne(
          { purchase_id: purchase.purchase_id },
          { $set: { pay_by: new Date(Date.now() + 1_500).toISOString() } },
        );
      const run = await restartPurchase(ctx, world, purchase.purchase_id, { deadline_grace_ms: 0 });
      return { 'purchase-checkout-deadline-closed': await finished(ctx, run) };
    },
  },

  'purchase-checkout-after-sale-closed': {
    fixtures: ['purchase-checkout-after-sale-closed'],
    async record(ctx) {
      // Paid, fulfilled, then nothing until the after-sale window closes: the run completes.
      const world = await ctx.purchases();
      const purchase = await (await shopOf(ctx, world)).checkout();
      const run = await restartPurchase(ctx, world, purchase.purchase_id, { after_sale_ms: 3_000 });
      await world.control(`checkout/sessions/${purchase.session_id}/pay`);
      return { 'purchase-checkout-after-sale-closed': await finished(ctx, run) };
    },
  },

  // Recorded from the code with purchasePatches.completeWhenFinal (the patched path).
  'purchase-v1-fulfilled': {
    fixtures: ['purchase-v1-fulfilled'],
    async record(ctx) {
      const { purchase } = await fulfilledPurchase(ctx);
      const run = await currentRun(ctx, purchaseWorkflowId(purchase.purchase_id));
      return { 'purchase-v1-fulfilled': await finished(ctx, run) };
    },
  },

  'purchase-v1-expired': {
    fixtures: ['purchase-v1-expired'],
    async record(ctx) {
      const world = await ctx.purchases();
      const purchase = await (await shopOf(ctx, world)).checkout();
      await viewWhere(ctx, purchase.purchase_id, (v) => v.status === 'pending', 'started');
      await world.control(`checkout/sessions/${purchase.session_id}/expire`);
      const run = await currentRun(ctx, purchaseWorkflowId(purchase.purchase_id));
      return { 'purchase-v1-expired': await ended(ctx, run) };
    },
  },

  'purchase-v1-refund-new-run': {
    fixtures: ['purchase-v1-refund-new-run'],
    async record(ctx) {
      const { world, purchase, chargeId } = await fulfilledPurchase(ctx);
      await finished(ctx, await currentRun(ctx, purchaseWorkflowId(purchase.purchase_id)));
      await world.control(`charges/${chargeId}/refund`);
      await viewWhere(ctx, purchase.purchase_id, (v) => v.status === 'refunded', 'refunded');
      const run = await currentRun(ctx, purchaseWorkflowId(purchase.purchase_id));
      return { 'purchase-v1-refund-new-run': await finished(ctx, run) };
    },
  },

  'purchase-checkout-refunded-full': {
    fixtures: ['purchase-checkout-refunded-full'],
    async record(ctx) {
      const { world, purchase, chargeId } = await fulfilledPurchase(ctx);
      await world.control(`charges/${chargeId}/refund`);
      await viewWhere(ctx, purchase.purchase_id, (v) => v.status === 'refunded', 'refunded');
      return {
        'purchase-checkout-refunded-full': await currentRun(ctx, purchaseWorkflowId(purchase.purchase_id)),
      };
    },
  },

  'purchase-checkout-refunded-partial': {
    fixtures: ['purchase-checkout-refunded-partial'],
    async record(ctx) {
      const { world, purchase, chargeId } = await fulfilledPurchase(ctx);
      const shop = await shopOf(ctx, world);
      const part = Math.floor(shop.pack.price / 2);
      await world.control(`charges/${chargeId}/refund`, { amount: part });
      await viewWhere(ctx, purchase.purchase_id, (v) => v.refunded_amount === part, 'partly refunded');
      return {
        'purchase-checkout-refunded-partial': await currentRun(ctx, purchaseWorkflowId(purchase.purchase_id)),
      };
    },
  },

  'purchase-checkout-dispute-lost': {
    fixtures: ['purchase-checkout-dispute-lost'],
    async record(ctx) {
      const { world, purchase, chargeId } = await fulfilledPurchase(ctx);
      const dispute = await world.control(`charges/${chargeId}/dispute`);
      await viewWhere(ctx, purchase.purchase_id, (v) => v.status === 'disputed', 'disputed');
      await world.control(`disputes/${dispute.object.id}/close`, { status: 'lost' });
      await viewWhere(ctx, purchase.purchase_id, (v) => v.dispute?.status === 'lost', 'dispute lost');
      return {
        'purchase-checkout-dispute-lost': await currentRun(ctx, purchaseWorkflowId(purchase.purchase_id)),
      };
    },
  },

  'purchase-checkout-dispute-won': {
    fixtures: ['purchase-checkout-dispute-won'],
    async record(ctx) {
      const { world, purchase, chargeId } = await fulfilledPurchase(ctx);
      const dispute = await world.control(`charges/${chargeId}/dispute`);
      await viewWhere(ctx, purchase.purchase_id, (v) => v.status === 'disputed', 'disputed');
      await world.control(`disputes/${dispute.object.id}/close`, { status: 'won' });
      await viewWhere(ctx, purchase.purchase_id, (v) => v.dispute?.status === 'won', 'dispute won');
      return {
        'purchase-checkout-dispute-won': await currentRun(ctx, purchaseWorkflowId(purchase.purchase_id)),
      };
    },
  },

  reconciliation: {
    fixtures: [
      'reconciliation-nothing-to-recheck',
      'reconciliation-rechecked',
      'purchase-checkout-reconciled',
    ],
    async record(ctx) {
      // A sandbox of its own: reconciliation lists every recent payment of it.
      const world = await ctx.freshPurchases();
      const reconcile = async (workflowId: string) => {
        const handle = await ctx.client.workflow.start('reconcilePaymentsWorkflow', {
          taskQueue: world.taskQueue,
          workflowId,
          args: [{ lookback_ms: 3600_000 }],
        });
        return finished(ctx, { workflowId, runId: handle.firstExecutionRunId });
      };
      const nothing = await reconcile(`reconcile-fixture-nothing-${randomUUID().slice(0, 8)}`);
      // Paid at Stripe, its webhooks never sent: reconciliation finds it and asks its workflow.
      const purchase = await (await shopOf(ctx, world)).checkout();
      await world.control(`checkout/sessions/${purchase.session_id}/pay`, { send_webhooks: false });
      const rechecked = await reconcile(`reconcile-fixture-${randomUUID().slice(0, 8)}`);
      await viewWhere(ctx, purchase.purchase_id, (v) => v.status === 'fulfilled', 'fulfilled');
      return {
        'reconciliation-nothing-to-recheck': nothing,
        'reconciliation-rechecked': rechecked,
        'purchase-checkout-reconciled': await currentRun(ctx, purchaseWorkflowId(purchase.purchase_id)),
      };
    },
  },

  'webhook-delivery-delivered': {
    fixtures: ['webhook-delivery-delivered'],
    async record(ctx) {
      const run = await legacyDelivery(ctx, () => ({ status: 200 }), quickSchedule(300, 10_000));
      return { 'webhook-delivery-delivered': run };
    },
  },

  'webhook-delivery-retried-then-delivered': {
    fixtures: ['webhook-delivery-retried-then-delivered'],
    async record(ctx) {
      const run = await legacyDelivery(
        ctx,
        (_webhook, index) => (index < 2 ? { status: 503 } : { status: 200 }),
        quickSchedule(300, 20_000),
      );
      return { 'webhook-delivery-retried-then-delivered': run };
    },
  },

  'webhook-delivery-dead-lettered': {
    fixtures: ['webhook-delivery-dead-lettered'],
    async record(ctx) {
      const run = await legacyDelivery(ctx, () => ({ status: 500 }), quickSchedule(300, 1_500));
      return { 'webhook-delivery-dead-lettered': run };
    },
  },

  'webhook-delivery-gone': {
    fixtures: ['webhook-delivery-gone'],
    async record(ctx) {
      const run = await legacyDelivery(ctx, () => ({ status: 410 }), quickSchedule(300, 10_000));
      return { 'webhook-delivery-gone': run };
    },
  },

  'webhook-endpoint-dead-lettered': {
    fixtures: ['webhook-endpoint-dead-lettered'],
    async record(ctx) {
      // The per-endpoint drain retries a failing site until the (short) window closes, then waits
      // for more work: recorded while it waits (it would end after an hour of quiet).
      const h = await ctx.webhooks();
      const site = await ctx.receiver(() => ({ status: 500 }));
      const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
      const published = await publishEvent(h.publisher, {
        instance_id: plugin.instance_id,
        event: 'config_updated',
        data: { key: 'openai' },
        schedule: quickSchedule(300, 1_500),
      });
      const delivery = published.deliveries[0]!;
      await h.waitForDelivery(delivery.delivery_id, (d) => d.status === 'dead_lettered');
      return { 'webhook-endpoint-dead-lettered': await currentRun(ctx, delivery.workflow_id) };
    },
  },

  'webhook-broadcast': {
    fixtures: ['webhook-broadcast-continued-as-new', 'webhook-broadcast-finished'],
    async record(ctx) {
      // Two pages, one per run: the first run continues as new, the second finishes.
      const h = await ctx.webhooks();
      const site = await ctx.receiver();
      const instances = [];
      for (let i = 0; i < 2; i += 1)
        instances.push((await registerPlugin(h.apiUrl, { site_url: site.url })).instance_id);
      const started = await startBroadcast(h.publisher, {
        event: 'package_updated',
        data: { package_id: 'pkg_image_50' },
        instance_ids: [...instances, 'no-such-instance'],
        batch_size: 2,
        batches_per_run: 1,
      });
      const handle = ctx.client.workflow.getHandle(started.workflow_id);
      await handle.result();
      const last = await currentRun(ctx, started.workflow_id);
      const history = await ctx.client.workflow.getHandle(last.workflowId, last.runId).fetchHistory();
      const first = history.events?.[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId;
      if (!first || first === last.runId) throw new Error('the broadcast did not continue as new');
      return {
        'webhook-broadcast-continued-as-new': { workflowId: started.workflow_id, runId: first },
        'webhook-broadcast-finished': last,
      };
    },
  },

  'grant-expiry': {
    fixtures: ['grant-expiry-timer-fired', 'grant-expiry-already-due'],
    async record(ctx) {
      const h = await ctx.webhooks();
      const instance = `site-${randomUUID()}`;
      const granted = await adminCall(h.apiUrl, 'POST', '/admin/v1/credits/adjust', {
        admin: true,
        headers: { 'Idempotency-Key': `fixture-${instance}` },
        body: {
          instance_id: instance,
          user_id: 'grantee',
          user_email: 'grantee@example.jp',
          credit_type: 'image',
          delta: 6,
          reason: 'promotion',
          expires_at: new Date(Date.now() + 2_000).toISOString(),
        },
      });
      if (granted.status !== 200) throw new Error(`grant: ${granted.status} ${JSON.stringify(granted.body)}`);
      // The API started the grant's timer workflow; it sleeps until the expiry, then expires the grant.
      const fired = await finished(ctx, await currentRun(ctx, `grant-expiry:${granted.body.transaction_id}`));
      // The same timer started after its time (a sweep making up for a lost start): no sleep, and the
      // ledger answers that the expiry was already made.
      const history = await ctx.client.workflow.getHandle(fired.workflowId, fired.runId).fetchHistory();
      const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      if (!payload) throw new Error('no input in the grant expiry history');
      const workflowId = `grant-expiry-late:${granted.body.transaction_id}`;
      const late = await ctx.client.workflow.start('grantExpiryWorkflow', {
        taskQueue: h.taskQueue,
        workflowId,
        args: [defaultPayloadConverter.fromPayload(payload)],
      });
      return {
        'grant-expiry-timer-fired': fired,
        'grant-expiry-already-due': await finished(ctx, { workflowId, runId: late.firstExecutionRunId }),
      };
    },
  },

  'maintenance-sweep': {
    fixtures: ['maintenance-sweep'],
    async record(ctx) {
      const h = await ctx.webhooks();
      const workflowId = `maintenance-fixture-${randomUUID().slice(0, 8)}`;
      const handle = await ctx.client.workflow.start('maintenanceSweepWorkflow', {
        taskQueue: h.taskQueue,
        workflowId,
      });
      return { 'maintenance-sweep': await finished(ctx, { workflowId, runId: handle.firstExecutionRunId }) };
    },
  },

  'diagnostics-ping': {
    fixtures: ['diagnostics-ping'],
    async record(ctx) {
      const h = await ctx.webhooks();
      const workflowId = `ping-fixture-${randomUUID().slice(0, 8)}`;
      const handle = await ctx.client.workflow.start('pingWorkflow', {
        taskQueue: h.taskQueue,
        workflowId,
        args: ['fixture'],
      });
      return { 'diagnostics-ping': await finished(ctx, { workflowId, runId: handle.firstExecutionRunId }) };
    },
  },

  'replay-probe': {
    fixtures: ['replay-probe'],
    dir: 'probe',
    async record(ctx) {
      // The test-only probe (probe/probe-workflow.ts) on a worker of its own.
      const taskQueue = `replay-probe-${randomUUID().slice(0, 8)}`;
      const worker = await Worker.create({
        connection: ctx.nativeConnection,
        taskQueue,
        workflowsPath: require.resolve('./probe/probe-workflow'),
        activities: { probeStep: async (name: string) => `hello, ${name}` },
      });
      const workflowId = `replay-probe-${randomUUID().slice(0, 8)}`;
      return worker.runUntil(async () => {
        const handle = await ctx.client.workflow.start('replayProbeWorkflow', {
          taskQueue,
          workflowId,
          args: ['probe'],
        });
        await handle.result();
        return { 'replay-probe': { workflowId, runId: handle.firstExecutionRunId } };
      });
    },
  },
};
