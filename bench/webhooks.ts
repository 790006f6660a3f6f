import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector';
import { dirname } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { type Db, MongoClient } from 'mongodb';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { ensureIndexes } from '../src/mongo/collections';
import { assembleServices } from '../src/services';
import { createWorker, installTemporalRuntime } from '../src/temporal/worker';
import { ensureWorkflowBundle } from '../src/temporal/workflow-bundle';
import { registerInstance } from '../src/tenancy/instances';
import { createSecretBox } from '../src/tenancy/secret-box';
import { startBroadcast } from '../src/webhooks/broadcast';
import { mapLimit } from '../src/webhooks/map-limit';
import { publishEvent, type WebhookPublisherDeps, webhookPublisher } from '../src/webhooks/publish';
import { freePort } from '../tools/stack/ports';
import type { BarePost } from './bare-delivery-workflow';
import { arrivalLatencies, percentile, startBenchStack } from './bench-stack';

// `npm run bench:webhooks`: webhook throughput and latency on a private local stack (in-memory
// Temporal, the embedded MongoDB-wire server in a temporary folder), against receivers in a process
// of their own, next to the raw parts: a bare workflow with one POST activity, bare loops of HTTP
// POSTs to the same receiver, and bare `insertOne` calls to the same server. Bursts measure throughput
// (and the queueing they cause); a paced run below capacity measures the latency of one delivery; 98
// healthy sites beside a dead and a hanging one show what broken sites cost healthy ones. It also
// prints what the MongoDB-wire commands cost. Each scenario stops after 25 s (the burst of 2,000
// after 120 s); a round takes about a minute. BENCH_REPEAT=n runs n rounds and prints each row's
// median and every round's figures (this VM's speed drifts by a factor of two within minutes).

const burstEvents = 200;
const largeBurstEvents = 2_000;
const pacedPerSecond = 5;
const pacedSeconds = 20;
const publishConcurrency = 16;
const scenarioLimitMs = 25_000;

const say = (line: string) => console.log(line);

interface Receiver {
  url: string;
}

/** The receivers (bench/webhook-receivers.ts) in a child process; arrivals land in `arrivals`. */
async function startReceivers(count: number, arrivals: Map<string, number>) {
  const child = fork(require.resolve('./webhook-receivers'), [String(count)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ urls: string[]; hanging: string }>((resolve, reject) => {
    child.on(
      'message',
      (message: { ready?: { urls: string[]; hanging: string }; arrivals?: Array<[string, number]> }) => {
        if (message.ready) resolve(message.ready);
        for (const [id, at] of message.arrivals ?? []) if (!arrivals.has(id)) arrivals.set(id, at);
      },
    );
    child.once('exit', (code) => reject(new Error(`receivers exited with ${code}`)));
  });
  return { ...ready, close: () => child.kill() };
}

/** BENCH_PROFILE=<dir>: a CPU profile of this process per scenario (open it in Chrome DevTools). */
async function startProfile() {
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop(file: string) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** Epoch milliseconds with sub-millisecond precision: comparable with the receivers' process. */
const now = () => performance.timeOrigin + performance.now();

interface Figures {
  name: string;
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** How long the publish call itself took (what a caller waits for). */
  publishP50?: number;
  publishP99?: number;
  /** CPU of this process (publishers, worker, drains) while the scenario ran, % of one core. */
  cpuPercent?: number;
}

/** Each column's median over repeated runs of one row (the count and name of the first). */
function medianFigures(runs: Figures[]): Figures {
  const median = (pick: (f: Figures) => number | undefined) => {
    const values = runs.flatMap((f) => {
      const value = pick(f);
      return value === undefined ? [] : [value];
    });
    if (values.length === 0) return undefined;
    values.sort((a, b) => a - b);
    const middle = Math.floor(values.length / 2);
    return values.length % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
  };
  const first = runs[0]!;
  if (runs.length === 1) return first;
  return {
    name: first.name,
    count: first.count,
    perSecond: median((f) => f.perSecond)!,
    p50: median((f) => f.p50)!,
    p99: median((f) => f.p99)!,
    publishP50: median((f) => f.publishP50),
    publishP99: median((f) => f.publishP99),
    cpuPercent: median((f) => f.cpuPercent),
  };
}

function line(f: Figures): string {
  const cells = [
    f.name.padEnd(44),
    String(f.count).padStart(6),
    f.perSecond.toFixed(1).padStart(10),
    f.p50.toFixed(1).padStart(9),
    f.p99.toFixed(1).padStart(9),
    (f.publishP50 === undefined ? '' : f.publishP50.toFixed(1)).padStart(12),
    (f.publishP99 === undefined ? '' : f.publishP99.toFixed(1)).padStart(12),
    (f.cpuPercent === undefined ? '' : f.cpuPercent.toFixed(0)).padStart(6),
  ];
  return cells.join(' ');
}

/**
 * Waits (up to the scenario limit) for `count` webhooks to arrive, then times each from when it was
 * sent on its way (`sentAt`, by webhook id, or one time for all) to its receipt. `progress` is
 * called at each look while waiting.
 */
async function arrivalFigures(
  name: string,
  sentAt: Map<string, number> | number,
  arrivals: Map<string, number>,
  count: number,
  started: number,
  limitMs = scenarioLimitMs,
  progress: () => void = () => {},
): Promise<Figures> {
  while (arrivals.size < count && now() - started < limitMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    progress();
  }
  const latencies =
    typeof sentAt === 'number'
      ? [...arrivals.values()].map((at) => at - sentAt).sort((a, b) => a - b)
      : arrivalLatencies(sentAt, arrivals);
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

/** `count` calls, `concurrency` at a time, each timed from its start to its end. */
async function timedCalls(
  name: string,
  count: number,
  concurrency: number,
  call: (i: number) => Promise<void>,
): Promise<Figures> {
  const latencies: number[] = [];
  const started = now();
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const t0 = now();
      await call(i);
      latencies.push(now() - t0);
    },
  );
  const elapsed = now() - started;
  latencies.sort((a, b) => a - b);
  return {
    name,
    count: latencies.length,
    perSecond: (latencies.length / elapsed) * 1000,
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
  const publishMs: number[] = [];
  const started = now();
  const publishOne = async (i: number) => {
    userSeq += 1;
    const t0 = now();
    const instanceId = instanceIds[i % instanceIds.length]!;
    const published = await publishEvent(publisher, {
      instance_id: instanceId,
      event: 'credits_updated',
      // A user per event: nothing is superseded, every event must arrive.
      data: {
        user_id: `bench-${userSeq}`,
        user_email: `bench-${userSeq}@example.jp`,
        ledger_seq: 1,
        credits: { article: 1 },
        delta: 1,
        reason: 'bench',
      },
    });
    publishMs.push(now() - t0);
    if (!options.healthy || options.healthy.has(instanceId)) createdAt.set(published.event_id, t0);
  };
  const indexes = Array.from({ length: count }, (_, i) => i);
  if (perSecond === undefined) {
    await mapLimit(indexes, publishConcurrency, publishOne);
  } else {
    const publishing: Promise<void>[] = [];
    for (const i of indexes) {
      const due = started + (i * 1000) / perSecond;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - now())));
      publishing.push(publishOne(i));
    }
    await Promise.all(publishing);
  }
  const expected = options.healthy ? createdAt.size : count;
  const figures = await arrivalFigures(name, createdAt, arrivals, expected, started, options.limitMs);
  publishMs.sort((a, b) => a - b);
  return { ...figures, publishP50: percentile(publishMs, 50), publishP99: percentile(publishMs, 99) };
}

/** The same number of POSTs from this process, no Temporal, no database: the ceiling. */
async function bareLoop(name: string, url: string, concurrency: number, count: number): Promise<Figures> {
  const agent = new http.Agent({ keepAlive: true });
  const body = JSON.stringify({ id: 'evt_bare', event: 'credits_updated', data: { user_id: 1 } });
  const post = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        `${url}/`,
        {
          method: 'POST',
          agent,
          headers: { 'Content-Type': 'application/json', 'webhook-id': `bare_${name}_${i}` },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve());
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const figures = await timedCalls(name, count, concurrency, post);
  agent.destroy();
  return figures;
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
  const started = now();
  const runId = Date.now();
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    publishConcurrency,
    async (i) => {
      const id = `bare_${runId}_${i}`;
      startedAt.set(id, now());
      await client.workflow.start('bareDeliveryWorkflow', { taskQueue, workflowId: id, args: [url, id] });
    },
  );
  return arrivalFigures(name, startedAt, arrivals, count, started);
}

/** The driver's ceiling: one `insertOne` per call into a scratch collection, 16 calls at a time. */
function bareInsertScenario(name: string, db: Db, count: number): Promise<Figures> {
  const scratch = db.collection<{ _id: string; at: Date; body: string }>('bench_bare_inserts');
  const body = JSON.stringify({ id: 'evt_bare', event: 'credits_updated', data: { user_id: 1 } });
  const runId = Date.now();
  return timedCalls(name, count, publishConcurrency, async (i) => {
    await scratch.insertOne({ _id: `bare_${runId}_${i}`, at: new Date(), body });
  });
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

let siteSeq = 0;

/** An instance per receiver (16 registrations at a time), in the receivers' order. */
async function registerSites(db: Db, receivers: Receiver[]): Promise<string[]> {
  const box = createSecretBox(undefined);
  siteSeq += 1;
  const ids = receivers.map((_, i) => `bench-${Date.now()}-${siteSeq}-${i}`);
  await mapLimit([...receivers.entries()], publishConcurrency, async ([i, receiver]) => {
    await registerInstance(
      db,
      box,
      { instance_id: ids[i]!, site_url: receiver.url, admin_email: 'b@example.jp' },
      { mode: 'open' },
    );
  });
  return ids;
}

/**
 * A broadcast to `count` new instances spread over the 100 sites (so `count / 100` per host), whose
 * drains are all asleep: from the start call to the last receipt. Each webhook is timed from the
 * start call, since the broadcast publishes them in pages.
 */
async function broadcastScenario(
  name: string,
  publisher: WebhookPublisherDeps,
  client: Client,
  db: Db,
  sites: Receiver[],
  arrivals: Map<string, number>,
  count: number,
): Promise<Figures> {
  say(`[bench] registering ${count} instances for the broadcast`);
  const targets = await registerSites(
    db,
    Array.from({ length: count }, (_, i) => sites[i % sites.length]!),
  );
  arrivals.clear();
  const started = now();
  const { workflow_id } = await startBroadcast(publisher, {
    event: 'package_updated',
    data: { package_id: 'pkg_bench' },
    instance_ids: targets,
  });
  let publishedIn: number | undefined;
  void client.workflow
    .getHandle(workflow_id)
    .result()
    .then(() => {
      publishedIn = now() - started;
    });
  let reported = 0;
  const figures = await arrivalFigures(name, started, arrivals, count, started, 900_000, () => {
    if (arrivals.size - reported < count / 10) return;
    reported = arrivals.size;
    say(
      `[bench] broadcast: ${reported} of ${count} received after ${((now() - started) / 1000).toFixed(0)}s`,
    );
  });
  if (publishedIn !== undefined)
    say(`[bench] the broadcast published its ${count} events in ${(publishedIn / 1000).toFixed(1)}s`);
  return figures;
}

async function main(): Promise<void> {
  const benchStarted = Date.now();
  const stack = await startBenchStack('bench-webhooks', say);
  let receivers: { close(): void } | undefined;
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
    // By command and collection: where the database work of a delivery goes.
    const collectionOf = new Map<number, string>();
    mongoClient.on('commandStarted', (event) => {
      const target = event.command[event.commandName];
      collectionOf.set(event.requestId, typeof target === 'string' ? target : '');
    });
    mongoClient.on('commandSucceeded', (event) => {
      const name = `${event.commandName} ${collectionOf.get(event.requestId) ?? ''}`;
      collectionOf.delete(event.requestId);
      const durations = commandMs.get(name) ?? [];
      durations.push(event.duration);
      commandMs.set(name, durations);
    });
    await ensureIndexes(db);
    const workflowBundlePath = await ensureWorkflowBundle(say);
    const nativeConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const services = assembleServices({ config, logger, db, temporal: { connection, client } });
    const worker = await createWorker({
      services,
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
    const publisher: WebhookPublisherDeps = webhookPublisher(services);

    const arrivals = new Map<string, number>();
    // 101 sites in another process, each its own host:port (so the per-host cap applies per site):
    // one for the single-endpoint rows, 100 for the others.
    const sites = await startReceivers(101, arrivals);
    receivers = sites;
    const one: Receiver = { url: sites.urls[0]! };
    const many: Receiver[] = sites.urls.slice(1).map((url) => ({ url }));
    const oneSite = await registerSites(db, [one]);
    // A new set of 100 instances on the same sites each round: the first row finds their drains asleep.
    let manySites = await registerSites(db, many);
    // 100 sites again, two of them broken: one refuses connections (nothing listens on its port),
    // one accepts and never answers. Only the 98 healthy ones are timed.
    const hanging: Receiver = { url: sites.hanging };
    const dead: Receiver = { url: `http://127.0.0.1:${await freePort()}` };
    const healthySites = await registerSites(db, many.slice(0, 98));
    const degradedSites = [...healthySites, ...(await registerSites(db, [dead, hanging]))];
    const ready = Math.round((Date.now() - benchStarted) / 1000);
    say(`[bench] stack, worker and ${sites.urls.length + 1} receivers ready in ${ready}s`);

    // Warm-up: connections, caches and the workflow code paths.
    await deliveryScenario('warm-up', publisher, oneSite, arrivals, 50);
    commandMs.clear();

    const paced = pacedPerSecond * pacedSeconds;
    const cap = config.WEBHOOK_MAX_CONCURRENCY_PER_HOST;
    // Each scenario with the database commands it cost. BENCH_ONLY (a regular expression over the
    // labels) runs some only: BENCH_ONLY='burst-2000|bare'.
    const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
    const scenarios: Array<[string, () => Promise<Figures>]> = [
      // The 100 sites' drains are asleep (never woken): each event costs a signal and a drain start.
      [
        'wake-100',
        () => deliveryScenario('webhooks, 100 endpoints asleep, 1 each', publisher, manySites, arrivals, 100),
      ],
      // Right after the wake: each of the 100 sites gets an event every 20 s, so their drains (awake
      // for 30 s after their last work) stay awake, as a site's does under steady traffic.
      [
        'paced-100',
        () =>
          deliveryScenario(
            `webhooks, 100 endpoints, ${pacedPerSecond}/s`,
            publisher,
            manySites,
            arrivals,
            paced,
            pacedPerSecond,
          ),
      ],
      [
        'burst-100',
        () => deliveryScenario('webhooks, 100 endpoints, burst', publisher, manySites, arrivals, burstEvents),
      ],
      [
        'paced-1',
        () =>
          deliveryScenario(
            `webhooks, 1 endpoint, ${pacedPerSecond}/s`,
            publisher,
            oneSite,
            arrivals,
            paced,
            pacedPerSecond,
          ),
      ],
      [
        'burst-1',
        () => deliveryScenario('webhooks, 1 endpoint, burst', publisher, oneSite, arrivals, burstEvents),
      ],
      [
        'degraded',
        async () => {
          // These 100 sites are new endpoints: wake their drains first (the dead and hanging ones
          // start failing), then time a burst like the one over the 100 healthy sites.
          await deliveryScenario('warm-up', publisher, degradedSites, arrivals, 100, undefined, {
            healthy: new Set(healthySites),
          });
          // As before the all-healthy burst: the warm-up's last writes done, the one-second caches
          // cold. (The dead site's first retry falls due during the timed burst.)
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          return deliveryScenario(
            'webhooks, 98 healthy + 1 dead + 1 hanging, burst',
            publisher,
            degradedSites,
            arrivals,
            burstEvents,
            undefined,
            { healthy: new Set(healthySites) },
          );
        },
      ],
      [
        'burst-2000',
        () =>
          deliveryScenario(
            `webhooks, 1 endpoint, burst of ${largeBurstEvents}`,
            publisher,
            oneSite,
            arrivals,
            largeBurstEvents,
            undefined,
            { limitMs: 120_000 },
          ),
      ],
      // Minutes, not seconds: only when asked for, BENCH_ONLY=broadcast (BENCH_BROADCAST=n instances).
      ...(only?.test('broadcast')
        ? [
            [
              'broadcast',
              () => {
                const count = Number(process.env.BENCH_BROADCAST ?? 10_000);
                return broadcastScenario(
                  `broadcast to ${count} instances asleep, 1 each`,
                  publisher,
                  client,
                  db,
                  many,
                  arrivals,
                  count,
                );
              },
            ] satisfies [string, () => Promise<Figures>],
          ]
        : []),
      [
        'bare-workflow',
        () =>
          bareWorkflowScenario(
            'bare workflow + 1 POST activity, burst',
            client,
            bareTaskQueue,
            one.url,
            arrivals,
            burstEvents,
          ),
      ],
      ['bare-insert', () => bareInsertScenario('bare insertOne, 16 at a time', db, largeBurstEvents)],
      ['bare-sequential', () => bareLoop('bare POST loop, sequential', one.url, 1, burstEvents)],
      [
        'bare-cap',
        () => bareLoop(`bare POST loop, ${cap} in flight (per-host cap)`, one.url, cap, burstEvents),
      ],
      [
        'bare-16',
        () =>
          bareLoop(
            `bare POST loop, ${publishConcurrency} in flight${publishConcurrency === config.WEBHOOK_MAX_CONCURRENCY_FAST_HOST ? ' (fast-host cap)' : ''}`,
            one.url,
            publishConcurrency,
            burstEvents,
          ),
      ],
    ];
    // BENCH_REPEAT=n runs the list n times over (so that the VM's drift touches every row alike) and
    // reports each row's median with its spread.
    const rounds = Math.max(1, Number(process.env.BENCH_REPEAT ?? 1));
    const runs = new Map<string, Figures[]>();
    const commandsPerScenario = new Map<
      string,
      { name: string; count: number; commands: Map<string, number[]> }
    >();
    for (let round = 1; round <= rounds; round += 1) {
      if (rounds > 1) say(`[bench] round ${round} of ${rounds}`);
      if (round > 1) manySites = await registerSites(db, many);
      for (const [label, scenario] of scenarios) {
        if (only && !only.test(label)) continue;
        // Each row starts on cold one-second caches, as the first round's rows do.
        if (round > 1) await new Promise((resolve) => setTimeout(resolve, 1_500));
        commandMs.clear();
        const profiler = process.env.BENCH_PROFILE ? await startProfile() : undefined;
        const cpuBefore = process.cpuUsage();
        const wallBefore = now();
        const figures = await scenario();
        const cpu = process.cpuUsage(cpuBefore);
        figures.cpuPercent = ((cpu.user + cpu.system) / 1000 / (now() - wallBefore)) * 100;
        if (profiler) await profiler.stop(`${process.env.BENCH_PROFILE}/${label}.cpuprofile`);
        runs.set(label, [...(runs.get(label) ?? []), figures]);
        commandsPerScenario.set(label, {
          name: figures.name,
          count: figures.count,
          commands: new Map(commandMs),
        });
      }
    }
    const results = [...runs.values()].map((figures) => medianFigures(figures));
    say('');
    say('latency: from the publish call (event creation) to receipt by the receiver');
    say(
      `${'scenario'.padEnd(44)} ${'count'.padStart(6)} ${'per sec'.padStart(10)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'publish p50'.padStart(12)} ${'publish p99'.padStart(12)} ${'cpu %'.padStart(6)}`,
    );
    for (const result of results) say(line(result));
    if (rounds > 1) {
      say('');
      say(`each round (the table above gives each column's median): per sec, then p99 ms, in round order`);
      for (const figures of runs.values()) {
        const each = (pick: (f: Figures) => number) => figures.map((f) => pick(f).toFixed(1)).join(' / ');
        say(
          `  ${figures[0]!.name.padEnd(44)} ${each((f) => f.perSecond).padStart(24)}   ${each((f) => f.p99)}`,
        );
      }
    }
    say('');
    say('MongoDB-wire commands per scenario (calls per webhook received; mean command time):');
    for (const { name, count, commands } of commandsPerScenario.values()) {
      if (commands.size === 0) continue;
      say(`  ${name}`);
      const rows = [...commands].sort((a, b) => b[1].length - a[1].length);
      for (const [command, durations] of rows) {
        const mean = durations.reduce((sum, value) => sum + value, 0) / durations.length;
        say(
          `    ${command.padEnd(34)} ${(durations.length / Math.max(1, count)).toFixed(2).padStart(6)}/webhook ${mean.toFixed(1).padStart(6)} ms`,
        );
      }
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
    receivers?.close();
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
