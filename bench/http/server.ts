import { randomUUID } from 'node:crypto';
import http from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import { loadConfigOrExit } from '../../src/config';
import { createLogger } from '../../src/logger';
import { buildApiApp } from '../../src/main/api-app';
import type { createMongo } from '../../src/mongo/client';
import { collectionNames } from '../../src/mongo/collections';
import type { StripeGateway } from '../../src/stripe/gateway';
import type { createTemporal } from '../../src/temporal/client';
import { purchaseWorkflowType } from '../../workflows/purchase/contract';
import { countCommands } from '../command-counter';

// The API process of `npm run bench:http` and `npm run bench`: the product's app exactly as src/main/api.ts builds it
// (buildApiApp),
// and beside it, in the same process on the same MongoDB pool and Temporal client, the bare routes
// that are each hot path's ceiling (one driver call or one Temporal call behind a plain Koa route).
// The bare driver calls go to the ledger's own collection, so they pay for the same indexes and the
// same table size as the product. Requests under /bare/ go to those; everything else to the product.

/** The entry the bare findOne reads: a real ledger entry's id (the bench's first grant). */
const bareReadId = process.env.BENCH_BARE_ENTRY_ID ?? 'none';
/** A task queue no worker polls: the bare signalWithStart costs the Temporal server alone. */
export const bareTaskQueue = 'bench-bare-unpolled';

function bareApp(deps: {
  db: ReturnType<typeof createMongo>['db'];
  temporal: ReturnType<typeof createTemporal>;
  stripe: StripeGateway | undefined;
  commands: () => Record<string, number>;
}) {
  const router = new Router();
  const entries = deps.db.collection<Record<string, unknown> & { _id: string }>(
    collectionNames.ledgerEntries,
  );
  router.get('/bare/find-one', async (ctx) => {
    ctx.body = (await entries.findOne({ _id: bareReadId })) ?? {};
  });
  // An entry-shaped document with fresh values for every unique index (its own account, seq 1).
  router.post('/bare/insert-one', async (ctx) => {
    const id = randomUUID();
    await entries.insertOne({
      _id: `bare:${id}#1`,
      account_id: `bare:${id}`,
      seq: 1,
      kind: 'deduct',
      credit_type: 'article',
      delta: -1,
      balances_after: { article: 0 },
      idempotency_key: `txn:${id}`,
      transaction_id: id,
      created_at: new Date(),
    });
    ctx.body = { _id: id };
  });
  // The API process's CPU time so far, so the driver can say what each request costs this process.
  router.get('/bare/cpu', (ctx) => {
    const { user, system } = process.cpuUsage();
    ctx.body = { micros: user + system };
  });
  // The commands this process's MongoDB client has issued so far (with monitorCommands in the URL).
  router.get('/bare/commands', (ctx) => {
    ctx.body = deps.commands();
  });
  // The one Stripe call of a checkout, through the product's gateway, to the same Stripe.
  router.post('/bare/stripe-checkout', async (ctx) => {
    if (!deps.stripe) throw new Error('no STRIPE_SECRET_KEY');
    const id = randomUUID();
    const session = await deps.stripe.createCheckoutSession({
      purchaseId: `bare_${id}`,
      idempotencyKey: `bare:${id}`,
      amount: 750,
      currency: 'JPY',
      productName: 'Article starter',
      successUrl: 'https://example.com/ok',
      cancelUrl: 'https://example.com/cancel',
      customerEmail: 'bare@example.jp',
      metadata: { purchase_id: `bare_${id}` },
    });
    ctx.body = { id: session.id };
  });
  // The one workflow start of a checkout, on a task queue no worker polls.
  router.post('/bare/workflow-start', async (ctx) => {
    await deps.temporal.client.workflow.start(purchaseWorkflowType, {
      taskQueue: bareTaskQueue,
      workflowId: `bench-bare-${randomUUID()}`,
      args: [{ purchase_id: 'bare' }],
    });
    ctx.body = { ok: true };
  });
  router.post('/bare/signal-with-start', async (ctx) => {
    await deps.temporal.client.workflow.signalWithStart(purchaseWorkflowType, {
      taskQueue: bareTaskQueue,
      workflowId: `bench-bare-${randomUUID()}`,
      args: [{ purchase_id: 'bare' }],
      signal: 'stripeEvent',
      signalArgs: [{ event_id: randomUUID(), type: 'checkout.session.completed' }],
    });
    ctx.body = { ok: true };
  });
  return new Koa().use(router.routes());
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'api' });
  const built = await buildApiApp(config, logger);
  const { mongo } = built;
  const { temporal } = built.services;
  const product = built.app.callback();
  const counter = mongo.client.options.monitorCommands ? countCommands(mongo.client) : undefined;
  const bare = bareApp({
    db: mongo.db,
    temporal,
    stripe: built.services.stripe,
    commands: () => counter?.snapshot() ?? {},
  }).callback();
  const server = http.createServer((req, res) => (req.url?.startsWith('/bare/') ? bare : product)(req, res));
  server.keepAliveTimeout = 60_000;
  server.listen(config.PORT, config.HOST, () => console.log(`bench API listening on ${config.PORT}`));
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => {
      void built.close().then(() => process.exit(0));
    });
  });
}

if (require.main === module) void main();
