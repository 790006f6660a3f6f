import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import autocannon from 'autocannon';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { stackDir } from '../../src/paths';
import { assembleServices } from '../../src/services';
import { ensureWorkflowBundle } from '../../src/temporal/workflow-bundle';
import { mapLimit } from '../../src/webhooks/map-limit';
import { publishEvent, webhookPublisher } from '../../src/webhooks/publish';
import { freePort, waitForPort } from '../../tools/stack/ports';
import { purchaseWorkflowId } from '../../workflows/purchase/contract';
import { percentile, startBenchStack } from '../bench-stack';
import { type CommandCounts, commandsBetween, countCommands, sumCommands } from '../command-counter';
import { forkTs, json, spawnTs, stopAll } from '../processes';
import { stripeEventHeaders, unpaidCompletedEvents } from '../stripe-events';
import { bareFulfilmentTaskQueue, bareSignalName } from './bare-fulfilment-workflow';
import { formatReport, type HotPath, type Measured } from './format';

// `npm run bench`: one report over the six hot paths (read credits, deduct, Stripe webhook ingest,
// checkout creation, fulfilment from webhook to credits visible, plugin webhook delivery), each
// beside the raw ceiling of its slowest part measured in the same run, with the database commands
// each request costs. A private stack: the API (bench/http/server.ts, the product's app plus bare
// routes) and a worker (./worker.ts) in processes of their own, the Stripe sandbox and the plugin's
// sites in two more; this process only drives load. About three minutes.

const say = (line: string) => console.log(line);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const fulfilments = Number(process.env.BENCH_FULFILMENTS ?? 100);
const fulfilmentConcurrency = 8;
const deliveries = Number(process.env.BENCH_DELIVERIES ?? 1_000);
const deliveryConcurrency = 16;
const buyers = 1_000;
const userAgent = 'Rakubun-WordPress-Plugin/2.0.1';
const reportBase = resolve(process.env.BENCH_REPORT ?? join(stackDir(), 'bench-report'));

type Request = NonNullable<autocannon.Options['requests']>[number];
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function figures(latencies: number[], wallMs: number, failed = 0): Measured {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: sorted.length,
    perSecond: (sorted.length / wallMs) * 1000,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    failed,
  };
}

async function main(): Promise<void> {
  const benchStarted = Date.now();
  const stack = await startBenchStack('bench', say);
  const children: ChildProcess[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  try {
    const apiPort = await freePort();
    const sandboxPort = await freePort();
    const api = `http://127.0.0.1:${apiPort}`;
    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    const webhookSecret = `whsec_${randomBytes(24).toString('hex')}`;
    const stripeKey = 'sk_test_local_sandbox';
    // Every process's MongoDB client reports its commands (driver command monitoring).
    const mongoUrl = `${stack.env.MONGODB_URL}${stack.env.MONGODB_URL!.includes('?') ? '&' : '?'}monitorCommands=true`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...stack.env,
      MONGODB_URL: mongoUrl,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      MONGODB_DATABASE: 'rakubun_bench',
      TEMPORAL_TASK_QUEUE: 'rakubun-bench',
      STRIPE_API_URL: sandboxUrl,
      STRIPE_SECRET_KEY: stripeKey,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      ADMIN_API_TOKEN: randomBytes(24).toString('hex'),
      WEBHOOK_SECRET_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      REGISTRATION_MODE: 'open',
      // The limiter still runs, it just never says no.
      RATE_LIMIT_PER_MINUTE: '1000000000',
      REGISTRATION_RATE_LIMIT_PER_MINUTE: '1000000000',
    };

    say('[bench] bundling workflow code');
    await ensureWorkflowBundle(say);
    // The plugin's sites: answer 200 at once and report each webhook id's first arrival.
    const arrivals = new Map<string, number>();
    const sites = await forkTs<{ urls: string[] }>('bench/webhook-receivers.ts', ['2'], env, (message) => {
      for (const [id, at] of (message.arrivals as Array<[string, number]> | undefined) ?? [])
        if (!arrivals.has(id)) arrivals.set(id, at);
    });
    children.push(sites.child);
    children.push(
      spawnTs('tools/stripe-sandbox/main.ts', {
        ...env,
        STRIPE_SANDBOX_PORT: String(sandboxPort),
        STRIPE_SANDBOX_WEBHOOK_URL: `${api}/api/v1/stripe/webhook`,
      }),
    );
    children.push(spawnTs('bench/http/server.ts', env));
    let answerCommands: ((counts: CommandCounts) => void) | undefined;
    const worker = await forkTs<boolean>('bench/report/worker.ts', [], env, (message) => {
      if (message.commands) answerCommands?.(message.commands as CommandCounts);
    });
    children.push(worker.child);
    await waitForPort(sandboxPort, 60_000, 'Stripe sandbox');
    await waitForPort(apiPort, 60_000, 'bench API');
    // This process sends the Stripe events itself (signed as Stripe signs them), timed.
    await json(`${sandboxUrl}/_sandbox/webhooks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ enabled: false }),
    });

    const workerCommands = () =>
      new Promise<CommandCounts>((done) => {
        answerCommands = done;
        worker.child.send({ ask: 'commands' });
      });
    const apiCommands = async () => (await json(`${api}/bare/commands`)) as CommandCounts;
    const apiCpuMicros = async () => ((await json(`${api}/bare/cpu`)) as { micros: number }).micros;

    // This process's own services: it publishes plugin webhooks as activities do.
    const config = loadConfig(env);
    const logger = createLogger({ level: config.LOG_LEVEL, name: 'bench' });
    const mongo = new MongoClient(mongoUrl);
    const ownCounter = countCommands(mongo);
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    closers.push(
      () => mongo.close(),
      () => connection.close(),
    );
    const services = assembleServices({
      config,
      logger,
      db: mongo.db(config.MONGODB_DATABASE),
      temporal: { connection, client },
    });

    /**
     * All three processes' commands so far, once the work a run started has finished (its webhooks
     * delivered, its workflows' activities done): a second with fewer than 3 commands other than the
     * queue polls an awake webhook drain makes every 25 ms while idle (for up to 30 s).
     */
    const settledCommands = async () => {
      const read = async () => ({
        api: await apiCommands(),
        worker: await workerCommands(),
        bench: ownCounter.snapshot(),
      });
      const busy = (counts: Awaited<ReturnType<typeof read>>) =>
        Object.entries(sumCommands(counts.api, counts.worker, counts.bench))
          .filter(([key]) => key !== 'find webhook_queue')
          .reduce((sum, [, n]) => sum + n, 0);
      let counts = await read();
      for (let i = 0; i < 60; i += 1) {
        await sleep(1_000);
        const next = await read();
        const issued = busy(next) - busy(counts);
        counts = next;
        if (issued < 3) break;
      }
      return counts;
    };
    /**
     * Runs `work` and says what it cost each process in commands, per `count` requests; this
     * process's own only when it did the path's work (publishing), not when it only watched.
     */
    const withCommands = async <T>(
      work: () => Promise<T>,
      countOf: (result: T) => number,
      ownIsPath = false,
    ) => {
      const before = await settledCommands();
      const result = await work();
      const after = await settledCommands();
      const count = Math.max(1, countOf(result));
      const per = (b: CommandCounts, a: CommandCounts) =>
        Object.fromEntries(
          Object.entries(commandsBetween(b, a)).map(([key, n]) => [
            key,
            Math.round((n / count) * 1000) / 1000,
          ]),
        );
      return {
        result,
        commands: {
          api: per(before.api, after.api),
          worker: per(before.worker, after.worker),
          publisher: ownIsPath ? per(before.bench, after.bench) : {},
        },
      };
    };

    // The plugin site the HTTP paths act for, and one that only receives the delivery run's webhooks.
    const register = async (siteUrl: string) =>
      json(`${api}/api/v1/plugins/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': userAgent },
        body: JSON.stringify({
          instance_id: `bench-${randomUUID()}`,
          site_url: siteUrl,
          admin_email: 'admin@example.com',
          wordpress_version: '6.5',
          plugin_version: '2.0.1',
        }),
      });
    const plugin = await register(sites.ready.urls[0]!);
    const deliverySite = await register(sites.ready.urls[1]!);
    const instanceId = plugin.instance_id as string;
    const pluginHeaders = {
      Authorization: `Bearer ${plugin.api_token as string}`,
      'X-Instance-ID': instanceId,
      'User-Agent': userAgent,
      'Content-Type': 'application/json',
    };
    say(`[bench] granting credits to ${buyers} users`);
    for (let i = 0; i < buyers; i += 1) {
      await services.ledger.grant({
        instance_id: instanceId,
        user_id: `u${i}`,
        credit_type: 'article',
        amount: 10_000_000,
      });
    }
    const checkoutBody = (userId: string) =>
      JSON.stringify({
        user_id: userId,
        user_email: `${userId}@example.jp`,
        credit_type: 'article',
        package_id: 'article_starter',
        amount: 750,
        currency: 'JPY',
      });
    const openCheckout = async (userId: string) =>
      (await json(`${api}/api/v1/checkout/sessions`, {
        method: 'POST',
        headers: pluginHeaders,
        body: checkoutBody(userId),
      })) as { purchase_id: string; session_id: string };

    say('[bench] opening 20 checkout sessions for the webhook ingest run');
    const openSessions: Array<{ purchase_id: string; session_id: string }> = [];
    for (let i = 0; i < 20; i += 1) openSessions.push(await openCheckout(`w${i}`));
    const unpaidEvent = unpaidCompletedEvents(openSessions, webhookSecret);
    let seq = 0;
    const bodyFor = (make: (n: number) => string) => (req: Request) => ({ ...req, body: make(seq++) });

    // HTTP paths: autocannon at `connections`; the ceilings are the bare routes of the same process.
    const load = async (requests: Request[], duration = seconds) => {
      const cpuBefore = await apiCpuMicros();
      const result = await autocannon({ url: api, connections, duration, requests, pipelining: 1 });
      const cpu = (await apiCpuMicros()) - cpuBefore;
      return {
        count: result.requests.total,
        perSecond: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        failed: result.non2xx + result.errors + result.timeouts,
        apiCpuMicros: cpu / Math.max(1, result.requests.total),
      } satisfies Measured;
    };
    const httpPaths: Array<{
      name: string;
      product: Request[];
      parts: Array<{ name: string; requests: Request[] }>;
    }> = [
      {
        name: 'read credits: GET /api/v1/users/credits',
        product: [
          {
            method: 'GET',
            path: '/api/v1/users/credits?user_id=u1&user_email=u1%40example.jp',
            headers: pluginHeaders,
          },
        ],
        parts: [
          { name: 'bare Koa route, one findOne', requests: [{ method: 'GET', path: '/bare/find-one' }] },
        ],
      },
      {
        name: 'deduct: POST /api/v1/users/deduct-credits',
        product: [
          {
            method: 'POST',
            path: '/api/v1/users/deduct-credits',
            headers: pluginHeaders,
            setupRequest: bodyFor((n) =>
              JSON.stringify({
                user_id: `u${n % buyers}`,
                user_email: `u${n % buyers}@example.jp`,
                credit_type: 'article',
                amount: 1,
              }),
            ),
          },
        ],
        parts: [
          { name: 'bare Koa route, one insertOne', requests: [{ method: 'POST', path: '/bare/insert-one' }] },
        ],
      },
      {
        name: 'Stripe webhook ingest: POST /api/v1/stripe/webhook',
        product: [{ method: 'POST', path: '/api/v1/stripe/webhook', setupRequest: () => unpaidEvent() }],
        parts: [
          {
            name: 'bare Koa route, one signalWithStart',
            requests: [{ method: 'POST', path: '/bare/signal-with-start' }],
          },
        ],
      },
      {
        name: 'checkout creation: POST /api/v1/checkout/sessions',
        product: [
          {
            method: 'POST',
            path: '/api/v1/checkout/sessions',
            headers: pluginHeaders,
            setupRequest: bodyFor((n) => checkoutBody(`c${n}`)),
          },
        ],
        parts: [
          {
            name: 'bare Koa route, one Stripe checkout.sessions.create',
            requests: [{ method: 'POST', path: '/bare/stripe-checkout' }],
          },
          {
            name: 'bare Koa route, one workflow start',
            requests: [{ method: 'POST', path: '/bare/workflow-start' }],
          },
        ],
      },
    ];
    const only = process.env.BENCH_PATHS?.split(',').map((word) => word.trim().toLowerCase());
    const chosen = (name: string) => !only || only.some((word) => name.toLowerCase().includes(word));

    // The JVM compiles the store's hot code in the first seconds: warm every path up first.
    say('[bench] warming up');
    for (const path of httpPaths.filter((p) => chosen(p.name))) {
      await load(path.product, 2);
      for (const part of path.parts) await load(part.requests, 2);
    }
    const results: HotPath[] = [];
    for (const path of httpPaths.filter((p) => chosen(p.name))) {
      say(`[bench] ${path.name}: ${connections} connections, ${seconds}s`);
      const { result: product, commands } = await withCommands(
        () => load(path.product),
        (run) => run.count,
      );
      const parts: Array<Measured & { name: string }> = [];
      for (const part of path.parts) {
        say(`[bench]   ceiling part: ${part.name}`);
        parts.push({ name: part.name, ...(await load(part.requests)) });
      }
      results.push({ name: path.name, concurrency: `${connections} connections`, product, parts, commands });
    }

    // Fulfilment: a paid checkout's Stripe event posted to the API, timed until the buyer's credits
    // show in the read GET /users/credits makes (polled every 10 ms).
    if (chosen('fulfilment')) {
      say(`[bench] fulfilment: preparing ${fulfilments} paid checkouts`);
      const prepared: Array<{ userId: string; purchaseId: string; payload: string }> = [];
      for (let i = 0; i < fulfilments + 8; i += 1) {
        const userId = `f${i}`;
        const checkout = await openCheckout(userId);
        const paid = (await json(`${sandboxUrl}/_sandbox/checkout/sessions/${checkout.session_id}/pay`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ send_webhooks: false }),
        })) as { events: Array<{ id: string; type: string }> };
        const completed = paid.events.find((event) => event.type === 'checkout.session.completed');
        if (!completed) throw new Error('the sandbox made no checkout.session.completed');
        const event = await json(`${sandboxUrl}/v1/events/${completed.id}`, {
          headers: { Authorization: `Bearer ${stripeKey}` },
        });
        prepared.push({ userId, purchaseId: checkout.purchase_id, payload: JSON.stringify(event) });
      }
      const fulfil = async (one: (typeof prepared)[number]): Promise<number> => {
        const t0 = now();
        const answer = await fetch(`${api}/api/v1/stripe/webhook`, {
          method: 'POST',
          headers: stripeEventHeaders(one.payload, webhookSecret),
          body: one.payload,
        });
        await answer.text();
        if (!answer.ok) throw new Error(`the Stripe webhook answered ${answer.status}`);
        // The read GET /users/credits makes (services.ledger.balances), from this process, so the
        // polling is not counted as the path's own commands.
        for (;;) {
          const head = await services.ledger.balances({ instance_id: instanceId, user_id: one.userId });
          if (Object.values(head.balances).some((n) => n > 0)) return now() - t0;
          if (now() - t0 > 60_000) throw new Error(`purchase ${one.purchaseId}: no credits after 60 s`);
          await sleep(10);
        }
      };
      say('[bench]   warming up (8 purchases)');
      await mapLimit(prepared.splice(0, 8), fulfilmentConcurrency, fulfil);
      say(`[bench] fulfilment: ${fulfilments} purchases, ${fulfilmentConcurrency} at a time`);
      const { result: product, commands } = await withCommands(
        async () => {
          const started = now();
          const latencies = await mapLimit(prepared, fulfilmentConcurrency, fulfil);
          return figures(latencies, now() - started);
        },
        (run) => run.count,
      );
      // As many no-op activities as a purchase ran from Stripe's word to the grant (its history).
      const history = await client.workflow
        .getHandle(purchaseWorkflowId(prepared[0]!.purchaseId))
        .fetchHistory();
      const steps = activitiesToGrant(history.events ?? []);
      say(`[bench]   ceiling: bare workflow, signalWithStart + ${steps} no-op activities`);
      const runId = Date.now();
      const bareOne = async (i: number) => {
        const t0 = now();
        const handle = await client.workflow.signalWithStart('bareFulfilmentWorkflow', {
          taskQueue: bareFulfilmentTaskQueue,
          workflowId: `bench-bare-fulfilment-${runId}-${i}`,
          args: [steps],
          signal: bareSignalName,
          signalArgs: [],
        });
        await handle.result();
        return now() - t0;
      };
      await mapLimit(
        Array.from({ length: 8 }, (_, i) => -1 - i),
        fulfilmentConcurrency,
        bareOne,
      );
      const bareStarted = now();
      const bareLatencies = await mapLimit(
        Array.from({ length: fulfilments }, (_, i) => i),
        fulfilmentConcurrency,
        bareOne,
      );
      results.push({
        name: 'fulfilment: Stripe webhook to credits visible',
        concurrency: `${fulfilmentConcurrency} purchases in flight`,
        product,
        parts: [
          {
            name: `bare workflow, signalWithStart + ${steps} no-op activities`,
            ...figures(bareLatencies, now() - bareStarted),
          },
        ],
        commands,
      });
    }

    // Plugin webhook delivery: `deliveries` credits_updated events published by 16 callers to one
    // site, each timed from the publish call to its receipt.
    if (chosen('delivery')) {
      const publisher = webhookPublisher(services);
      const deliveryInstance = deliverySite.instance_id as string;
      const publishBurst = async (count: number, tag: string) => {
        arrivals.clear();
        const sentAt = new Map<string, number>();
        const started = now();
        await mapLimit(
          Array.from({ length: count }, (_, i) => i),
          deliveryConcurrency,
          async (i) => {
            const t0 = now();
            const published = await publishEvent(publisher, {
              instance_id: deliveryInstance,
              event: 'credits_updated',
              // A user per event: none supersedes another, every one must arrive.
              data: {
                user_id: `${tag}-${i}`,
                user_email: `${tag}-${i}@example.jp`,
                ledger_seq: 1,
                credits: { article: 1 },
                delta: 1,
                reason: 'bench',
              },
            });
            sentAt.set(published.event_id, t0);
          },
        );
        while (arrivals.size < count && now() - started < 120_000) await sleep(20);
        const latencies = [...sentAt].flatMap(([id, t0]) => {
          const at = arrivals.get(id);
          return at === undefined ? [] : [at - t0];
        });
        const last = Math.max(...arrivals.values());
        return { ...figures(latencies, last - started), failed: count - latencies.length };
      };
      say('[bench] delivery: warming up (100 webhooks)');
      await publishBurst(100, 'warm');
      say(`[bench] delivery: ${deliveries} webhooks, ${deliveryConcurrency} publishers`);
      const { result: product, commands } = await withCommands(
        () => publishBurst(deliveries, 'run'),
        (run) => run.count,
        true,
      );
      say(`[bench]   ceiling: bare POST loop, ${deliveryConcurrency} in flight`);
      const bare = await barePostLoop(sites.ready.urls[1]!, deliveryConcurrency, deliveries);
      results.push({
        name: 'plugin webhook delivery: publish to receipt',
        concurrency: `${deliveryConcurrency} publishers`,
        product,
        parts: [{ name: `bare POST loop to the same site, ${deliveryConcurrency} in flight`, ...bare }],
        commands,
      });
    }

    const report = {
      generated_at: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      settings: { seconds, connections, fulfilments, fulfilmentConcurrency, deliveries, deliveryConcurrency },
      hot_paths: results,
    };
    const markdown = formatReport(report);
    mkdirSync(dirname(reportBase), { recursive: true });
    writeFileSync(`${reportBase}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${reportBase}.md`, markdown);
    say('');
    say(markdown);
    say(
      `[bench] report: ${reportBase}.md and ${reportBase}.json; done in ${Math.round((Date.now() - benchStarted) / 1000)}s`,
    );
  } finally {
    for (const close of closers) await close().catch(() => {});
    await stopAll(children);
    await stack.stop();
  }
}

/** Activities a purchase run scheduled after Stripe's event reached it, up to its grant. */
function activitiesToGrant(
  events: Array<{
    eventType?: unknown;
    activityTaskScheduledEventAttributes?: unknown;
    workflowExecutionSignaledEventAttributes?: unknown;
  }>,
): number {
  let counting = false;
  let steps = 0;
  for (const event of events) {
    if (event.workflowExecutionSignaledEventAttributes) counting = true;
    const scheduled = event.activityTaskScheduledEventAttributes as
      | { activityType?: { name?: string } }
      | undefined;
    if (!counting || !scheduled) continue;
    steps += 1;
    if (scheduled.activityType?.name === 'grantPurchaseCredits') return steps;
  }
  throw new Error('the purchase history has no grant after its signal');
}

/** The ceiling of delivery: the same number of POSTs to the same site, no Temporal, no database. */
async function barePostLoop(url: string, concurrency: number, count: number): Promise<Measured> {
  const agent = new http.Agent({ keepAlive: true });
  const body = JSON.stringify({ event: 'credits_updated', data: { user_id: 'bare' } });
  const post = (i: number) =>
    new Promise<number>((done, fail) => {
      const t0 = now();
      const req = http.request(
        `${url}/`,
        { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'webhook-id': `bare_${i}` } },
        (res) => {
          res.resume();
          res.on('end', () => done(now() - t0));
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  const started = now();
  const latencies = await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    post,
  );
  const wall = now() - started;
  agent.destroy();
  return figures(latencies, wall);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error('[bench] failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
