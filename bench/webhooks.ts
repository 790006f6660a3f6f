import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { type Db, MongoClient } from 'mongodb';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { ensureIndexes } from '../src/mongo/collections';
import { freePort } from '../src/stack/ports';
import { createWorker, installTemporalRuntime } from '../src/temporal/worker';
import { ensureWorkflowBundle } from '../src/temporal/workflow-bundle';
import { registerInstance } from '../src/tenancy/instances';
import { createSecretBox } from '../src/tenancy/secret-box';
import { mapLimit } from '../src/webhooks/map-limit';
import { publishEvent, type WebhookPublisherDeps } from '../src/webhooks/publish';
import type { BarePost } from './bare-delivery-workflow';
import { percentile, startBenchStack } from './bench-stack';

// `npm run bench:webhooks`: webhook throughput and latency on a private local stack (in-memory
// Temporal, the embedded MongoDB-wire server in a temporary folder), against receivers in this
// process, next to a bare workflow with one POST activity and a bare loop of HTTP POSTs to the same
// receiver. Bursts measure throughput (and the queueing they cause); a paced run below capacity
// measures the latency of one delivery; 98 healthy sites beside a dead and a hanging one show what
// broken sites cost healthy ones. It also prints what the MongoDB-wire commands cost. Each scenario
// stops after 25 s (the burst of 2,000 after 120 s), so the whole run takes two to three minutes.

const burstEvents = 200;
const largeBurstEvents = 2_000;
const pacedPerSecond = 5;
const pacedSeconds = 8;
const publishConcurrency = 16;
const scenarioLimitMs = 25_000;

const say = (line: string) => console.log(line);

interface Receiver {
  url: string;
  close(): Promise<void>;
}

/** A receiver that answers 200 at once and notes when each webhook id arrived. */
async function startReceiver(arrivals: Map<string, number>): Promise<Receiver> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      if (typeof id === 'string' && !arrivals.has(id)) arrivals.set(id, performance.now());
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Figures {
  name: string;
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
}

function line(f: Figures): string {
  const cells = [
    f.name.padEnd(44),
    String(f.count).padStart(6),
    f.perSecond.toFixed(1).padStart(10),
    f.p50.toFixed(1).padStart(9),
    f.p99.toFixed(1).padStart(9),
  ];
  return cells.join(' ');
}

/**
 * Waits (up to the scenario limit) for `count` webhooks to arrive, then times each from when it was
 * sent on its way (`sentAt`, by webhook id) to its receipt.
 */
async function arrivalFigures(
  name: string,
  sentAt: Map<string, number>,
  arrivals: Map<string, number>,
  count: number,
  started: number,
  limitMs = scenarioLimitMs,
): Promise<Figures> {
  while (arrivals.size < count && performance.now() - started < limitMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const latencies = [...sentAt].flatMap(([id, t0]) => {
    const at = arrivals.get(id);
    return at === undefined ? [] : [at - t0];
  });
  latencies.sort((a, b) => a - b);
  const last = Math.max(...arrivals.values());
  const missing = count - latencies.length;
  return {
    name: missing > 0 ? `${name} (${missing} not in ${limitMs / 1000}s)` : name,
    count: latencies.length,
    perSecond: (latencies.length / (last - started)) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

let userSeq = 0;

/**
 * Publishes `count` events round-robin over the instances, all at once (16 publishers) or `perSecond`
 * a second; times each from the publish call to its receipt. With `healthy`, only events to those
 * instances are timed and waited for (the others go to a dead or hanging site).
 */
async function deliveryScenario(
  name: string,
  publisher: WebhookPublisherDeps,
  instanceIds: string[],
  arrivals: Map<string, number>,
  count: number,
  perSecond?: number,
  options: { healthy?: Set<string>; limitMs?: number } = {},
): Promise<Figures> {
  arrivals.clear();
  const createdAt = new Map<string, number>();
  const started = performance.now();
  const publishOne = async (i: number) => {
    userSeq += 1;
    const t0 = performance.now();
    const instanceId = instanceIds[i % instanceIds.length]!;
    const published = await publishEvent(publisher, {
      instance_id: instanceId,
      event: 'credits_updated',
      // A user per event: nothing is superseded, every event must arrive.
      data: {
        user_id: `bench-${userSeq}`,
        ledger_seq: 1,
        credits: { article: 1 },
        delta: 1,
        reason: 'bench',
      },
    });
    if (!options.healthy || options.healthy.has(instanceId)) createdAt.set(published.event_id, t0);
  };
  const indexes = Array.from({ length: count }, (_, i) => i);
  if (perSecond === undefined) {
    await mapLimit(indexes, publishConcurrency, publishOne);
  } else {
    const publishing: Promise<void>[] = [];
    for (const i of indexes) {
      const due = started + (i * 1000) / perSecond;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      publishing.push(publishOne(i));
    }
    await Promise.all(publishing);
  }
  const expected = options.healthy ? createdAt.size : count;
  return arrivalFigures(name, createdAt, arrivals, expected, started, options.limitMs);
}

/** A site that takes the request and never answers. */
async function startHangingReceiver(): Promise<Receiver> {
  const server = http.createServer((req) => req.resume());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The same number of POSTs from this process, no Temporal, no database: the ceiling. */
async function bareLoop(name: string, url: string, concurrency: number, count: number): Promise<Figures> {
  const agent = new http.Agent({ keepAlive: true });
  const body = JSON.stringify({ id: 'evt_bare', event: 'credits_updated', data: { user_id: 1 } });
  const latencies: number[] = [];
  const post = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      const req = http.request(
        `${url}/`,
        {
          method: 'POST',
          agent,
          headers: { 'Content-Type': 'application/json', 'webhook-id': `bare_${name}_${i}` },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - t0);
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    post,
  );
  const elapsed = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    name,
    count: latencies.length,
    perSecond: (latencies.length / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/**
 * The ceiling: the same burst as one bare workflow per event, each with one activity that POSTs it,
 * started by 16 callers like the publishes; timed from the start call to receipt.
 */
async function bareWorkflowScenario(
  name: string,
  client: Client,
  taskQueue: string,
  url: string,
  arrivals: Map<string, number>,
  count: number,
): Promise<Figures> {
  arrivals.clear();
  const startedAt = new Map<string, number>();
  const started = performance.now();
  const runId = Date.now();
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    publishConcurrency,
    async (i) => {
      const id = `bare_${runId}_${i}`;
      startedAt.set(id, performance.now());
      await client.workflow.start('bareDeliveryWorkflow', { taskQueue, workflowId: id, args: [url, id] });
    },
  );
  return arrivalFigures(name, startedAt, arrivals, count, started);
}

/** The bare workflow's activity: one POST with keep-alive, the webhook id in its header. */
function barePostActivity(): BarePost {
  const agent = new http.Agent({ keepAlive: true });
  return {
    post: (url, id) =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(
          `${url}/`,
          { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'webhook-id': id } },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ id, event: 'credits_updated' }));
      }),
  };
}

async function registerSites(db: Db, receivers: Receiver[]): Promise<string[]> {
  const box = createSecretBox(undefined);
  const ids: string[] = [];
  for (const [i, receiver] of receivers.entries()) {
    const instanceId = `bench-${Date.now()}-${i}`;
    await registerInstance(db, box, {
      instance_id: instanceId,
      site_url: receiver.url,
      admin_email: 'b@example.jp',
    });
    ids.push(instanceId);
  }
  return ids;
}

async function main(): Promise<void> {
  const benchStarted = Date.now();
  const stack = await startBenchStack('bench-webhooks', say);
  const receivers: Receiver[] = [];
  try {
    const config = loadConfig({
      ...process.env,
      ...stack.env,
      LOG_LEVEL: 'warn',
      MONGODB_DATABASE: 'rakubun_bench',
      TEMPORAL_TASK_QUEUE: 'rakubun-bench',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    const logger = createLogger({ level: config.LOG_LEVEL, name: 'bench' });
    installTemporalRuntime(logger);
    // The driver's command events show where the time goes.
    const mongoClient = new MongoClient(config.MONGODB_URL, { monitorCommands: true });
    const db = mongoClient.db(config.MONGODB_DATABASE);
    const commandMs = new Map<string, number[]>();
    mongoClient.on('commandSucceeded', (event) => {
      const durations = commandMs.get(event.commandName) ?? [];
      durations.push(event.duration);
      commandMs.set(event.commandName, durations);
    });
    await ensureIndexes(db);
    const workflowBundlePath = await ensureWorkflowBundle(say);
    const nativeConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const worker = await createWorker({
      config,
      logger,
      db,
      temporal: { connection, client },
      connection: nativeConnection,
      workflowBundlePath,
    });
    const running = worker.run();
    const bareTaskQueue = 'bench-bare-delivery';
    const bareWorker = await Worker.create({
      connection: nativeConnection,
      taskQueue: bareTaskQueue,
      workflowsPath: require.resolve('./bare-delivery-workflow'),
      activities: barePostActivity(),
    });
    const bareRunning = bareWorker.run();
    const publisher: WebhookPublisherDeps = { db, client, config };

    const arrivals = new Map<string, number>();
    const one = await startReceiver(arrivals);
    receivers.push(one);
    // 100 endpoints = 100 sites, each its own host:port, so the per-host cap applies per site.
    const many = await Promise.all(Array.from({ length: 100 }, () => startReceiver(arrivals)));
    receivers.push(...many);
    const oneSite = await registerSites(db, [one]);
    const manySites = await registerSites(db, many);
    // 100 sites again, two of them broken: one refuses connections (nothing listens on its port),
    // one accepts and never answers. Only the 98 healthy ones are timed.
    const hanging = await startHangingReceiver();
    receivers.push(hanging);
    const dead: Receiver = { url: `http://127.0.0.1:${await freePort()}`, close: async () => {} };
    const healthySites = await registerSites(db, many.slice(0, 98));
    const degradedSites = [...healthySites, ...(await registerSites(db, [dead, hanging]))];
    const ready = Math.round((Date.now() - benchStarted) / 1000);
    say(`[bench] stack, worker and ${receivers.length} receivers ready in ${ready}s`);

    // Warm-up: connections, caches and the workflow code paths.
    await deliveryScenario('warm-up', publisher, oneSite, arrivals, 50);
    commandMs.clear();

    const paced = pacedPerSecond * pacedSeconds;
    const cap = config.WEBHOOK_MAX_CONCURRENCY_PER_HOST;
    const results: Figures[] = [
      await deliveryScenario(
        `webhooks, 1 endpoint, ${pacedPerSecond}/s`,
        publisher,
        oneSite,
        arrivals,
        paced,
        pacedPerSecond,
      ),
      await deliveryScenario('webhooks, 1 endpoint, burst', publisher, oneSite, arrivals, burstEvents),
      await deliveryScenario(
        `webhooks, 100 endpoints, ${pacedPerSecond}/s`,
        publisher,
        manySites,
        arrivals,
        paced,
        pacedPerSecond,
      ),
      await deliveryScenario('webhooks, 100 endpoints, burst', publisher, manySites, arrivals, burstEvents),
      await deliveryScenario(
        'webhooks, 98 healthy + 1 dead + 1 hanging, burst',
        publisher,
        degradedSites,
        arrivals,
        burstEvents,
        undefined,
        { healthy: new Set(healthySites) },
      ),
      await deliveryScenario(
        `webhooks, 1 endpoint, burst of ${largeBurstEvents}`,
        publisher,
        oneSite,
        arrivals,
        largeBurstEvents,
        undefined,
        { limitMs: 120_000 },
      ),
      await bareWorkflowScenario(
        'bare workflow + 1 POST activity, burst',
        client,
        bareTaskQueue,
        one.url,
        arrivals,
        burstEvents,
      ),
      await bareLoop('bare POST loop, sequential', one.url, 1, burstEvents),
      await bareLoop(`bare POST loop, ${cap} in flight (per-host cap)`, one.url, cap, burstEvents),
      await bareLoop(
        `bare POST loop, ${publishConcurrency} in flight`,
        one.url,
        publishConcurrency,
        burstEvents,
      ),
    ];

    say('');
    say('latency: from the publish call (event creation) to receipt by the receiver');
    say(
      `${'scenario'.padEnd(44)} ${'count'.padStart(6)} ${'per sec'.padStart(10)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)}`,
    );
    for (const result of results) say(line(result));
    say('');
    say('MongoDB-wire commands during those rows:');
    for (const [name, durations] of commandMs) {
      durations.sort((a, b) => a - b);
      const mean = durations.reduce((sum, value) => sum + value, 0) / durations.length;
      const p50 = percentile(durations, 50);
      const p99 = percentile(durations, 99);
      say(
        `  ${name.padEnd(8)} ${String(durations.length).padStart(6)} calls, mean ${mean.toFixed(1)} ms, p50 ${p50} ms, p99 ${p99} ms`,
      );
    }
    say('');
    say(`[bench] done in ${Math.round((Date.now() - benchStarted) / 1000)}s`);

    worker.shutdown();
    bareWorker.shutdown();
    await Promise.all([running, bareRunning]);
    await connection.close();
    await nativeConnection.close();
    await mongoClient.close();
  } finally {
    for (const receiver of receivers) await receiver.close();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error('[bench] failed:', error);
    process.exit(1);
  },
);
