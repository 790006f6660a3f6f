import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../src/config';
import { accountIdOf, entryIdOf } from '../../src/ledger/ids';
import { createLedger } from '../../src/ledger/ledger';
import { ensureWorkflowBundle } from '../../src/temporal/workflow-bundle';
import { freePort, waitForPort } from '../../tools/stack/ports';
import { startStripeSandbox } from '../../tools/stripe-sandbox/server';
import { startBenchStack } from '../bench-stack';
import { json, spawnTs, stopAll } from '../processes';
import { unpaidCompletedEvents } from '../stripe-events';
import { loadDocuments } from './load';
import { formatTable, type Row, type Run } from './report';

// `npm run bench:http`: each hot path at the HTTP level (autocannon) beside its bare ceiling, a plain
// Koa route making the one driver or Temporal call the path cannot do without, served by the same
// process on the same stack in the same run. At 16 and 50 connections, then again after loading
// 100,000 documents into every collection. Private stack in a temporary folder; about five minutes.

const say = (line: string) => console.log(line);
const durationSeconds = Number(process.env.BENCH_SECONDS ?? 6);
const loadCount = Number(process.env.BENCH_LOAD_DOCS ?? 100_000);
const connectionCounts = [16, 50];
const userAgent = 'Rakubun-WordPress-Plugin/2.0.1';
const buyers = 1_000;

type Request = NonNullable<autocannon.Options['requests']>[number];

async function apiCpuMicros(url: string): Promise<number> {
  return ((await json(`${url}/bare/cpu`)) as { micros: number }).micros;
}

async function measure(url: string, connections: number, requests: Request[]): Promise<Run> {
  const cpuBefore = await apiCpuMicros(url);
  const result = await autocannon({ url, connections, duration: durationSeconds, requests, pipelining: 1 });
  const cpu = (await apiCpuMicros(url)) - cpuBefore;
  const failed = result.non2xx + result.errors + result.timeouts;
  return {
    perSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed,
    cpuMicros: cpu / Math.max(1, result.requests.total),
  };
}

async function main(): Promise<void> {
  const stack = await startBenchStack('bench-http', say);
  const children: ChildProcess[] = [];
  const apiPort = await freePort();
  const webhookSecret = `whsec_${randomBytes(24).toString('hex')}`;
  const sandbox = await startStripeSandbox({
    port: await freePort(),
    webhookUrl: `http://127.0.0.1:${apiPort}/api/v1/stripe/webhook`,
    webhookSecret,
    stateFile: join(stack.scratchDir, 'stripe-sandbox.json'),
  });
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...stack.env,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      MONGODB_DATABASE: 'rakubun_bench',
      TEMPORAL_TASK_QUEUE: 'rakubun-bench',
      STRIPE_API_URL: sandbox.url,
      STRIPE_SECRET_KEY: 'sk_test_local_sandbox',
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      ADMIN_API_TOKEN: randomBytes(24).toString('hex'),
      WEBHOOK_SECRET_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      // The limiter still runs, it just never says no (its blocks double, so it writes a few
      // dozen times a minute: see http/middleware/rate-limit.ts).
      RATE_LIMIT_PER_MINUTE: '1000000000',
      REGISTRATION_RATE_LIMIT_PER_MINUTE: '1000000000',
    };
    // The bare findOne reads the entry the product's credits read looks at: u1's grant.
    const instanceId = `bench-${randomUUID()}`;
    env.BENCH_BARE_ENTRY_ID = entryIdOf(accountIdOf(instanceId, 'u1'), 1);
    say('[bench] bundling workflow code');
    await ensureWorkflowBundle(say);
    children.push(
      // BENCH_API_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") go to the API process only.
      spawnTs('bench/http/server.ts', env, process.env.BENCH_API_NODE_ARGS?.split(' ').filter(Boolean)),
      spawnTs('src/main/worker.ts', env),
    );
    await waitForPort(apiPort, 60_000, 'bench API');
    const api = `http://127.0.0.1:${apiPort}`;

    // One plugin site, with a thousand users who have credits to spend.
    const registered = await json(`${api}/api/v1/plugins/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': userAgent },
      body: JSON.stringify({
        instance_id: instanceId,
        site_url: 'https://example.com',
        admin_email: 'admin@example.com',
        wordpress_version: '6.5',
        plugin_version: '2.0.1',
      }),
    });
    const pluginHeaders = {
      Authorization: `Bearer ${registered.api_token as string}`,
      'X-Instance-ID': instanceId,
      'User-Agent': userAgent,
      'Content-Type': 'application/json',
    };
    const config = loadConfig(env);
    const mongo = new MongoClient(env.MONGODB_URL!);
    const db = mongo.db(env.MONGODB_DATABASE);
    const ledger = createLedger({ db, creditTypes: config.CREDIT_TYPES });
    say(`[bench] granting credits to ${buyers} users`);
    for (let i = 0; i < buyers; i += 1) {
      await ledger.grant({
        instance_id: instanceId,
        user_id: `u${i}`,
        credit_type: 'article',
        amount: 10_000_000,
      });
    }

    // Pending purchases for the Stripe webhook scenario: events about them verify, find their
    // purchase and reach its workflow, which asks the sandbox and finds the session still open.
    say('[bench] opening 20 checkout sessions');
    const sessions: Array<{ purchase_id: string; session_id: string }> = [];
    for (let i = 0; i < 20; i += 1) {
      const created = await json(`${api}/api/v1/checkout/sessions`, {
        method: 'POST',
        headers: pluginHeaders,
        body: JSON.stringify({
          user_id: `u${i}`,
          user_email: `u${i}@example.jp`,
          credit_type: 'article',
          package_id: 'article_starter',
          amount: 750,
          currency: 'JPY',
        }),
      });
      sessions.push({ purchase_id: created.purchase_id as string, session_id: created.session_id as string });
    }
    const signedEvent = unpaidCompletedEvents(sessions, webhookSecret);
    let user = 0;
    const nextUser = () => (user++ % buyers).toString();

    const paths: Array<{ name: string; ceilingName: string; product: () => Request[]; ceiling: Request[] }> =
      [
        {
          name: 'GET /users/credits (one account)',
          ceilingName: 'bare findOne route',
          product: () => [
            {
              method: 'GET',
              path: '/api/v1/users/credits?user_id=u1&user_email=u1%40example.jp',
              headers: pluginHeaders,
            },
          ],
          ceiling: [{ method: 'GET', path: '/bare/find-one' }],
        },
        {
          name: 'POST /users/deduct-credits (1,000 users)',
          ceilingName: 'bare insertOne route',
          product: () => [
            {
              method: 'POST',
              path: '/api/v1/users/deduct-credits',
              headers: pluginHeaders,
              setupRequest: (req) => ({
                ...req,
                body: (() => {
                  const n = nextUser();
                  return JSON.stringify({
                    user_id: `u${n}`,
                    user_email: `u${n}@example.jp`,
                    credit_type: 'article',
                    amount: 1,
                  });
                })(),
              }),
            },
          ],
          ceiling: [{ method: 'POST', path: '/bare/insert-one' }],
        },
        {
          name: 'POST /stripe/webhook (signed events)',
          ceilingName: 'bare signalWithStart route',
          product: () => [
            { method: 'POST', path: '/api/v1/stripe/webhook', setupRequest: () => signedEvent() },
          ],
          ceiling: [{ method: 'POST', path: '/bare/signal-with-start' }],
        },
      ];

    // The JVM compiles the server's hot code in the first seconds: warm every path up first.
    say('[bench] warming up');
    for (const path of paths) {
      await autocannon({ url: api, connections: 16, duration: 2, requests: path.product() });
      await autocannon({ url: api, connections: 16, duration: 2, requests: path.ceiling });
    }
    const rows: Row[] = [];
    // BENCH_PATHS=credits,deduct runs only the paths whose name contains one of the words.
    const only = process.env.BENCH_PATHS?.split(',').map((word) => word.trim().toLowerCase());
    const chosen = paths.filter(
      (path) => !only || only.some((word) => path.name.toLowerCase().includes(word)),
    );
    const runAll = async (data: string) => {
      for (const path of chosen) {
        for (const connections of connectionCounts) {
          say(`[bench] ${path.name}, ${connections} connections, ${data}`);
          const product = await measure(api, connections, path.product());
          const ceiling = await measure(api, connections, path.ceiling);
          rows.push({ path: path.name, ceilingName: path.ceilingName, connections, data, product, ceiling });
        }
      }
    };
    await runAll('as set up');
    if (loadCount > 0) {
      say(`[bench] loading ${loadCount.toLocaleString()} documents into every collection`);
      await loadDocuments(db, loadCount, say);
      await runAll(`+${loadCount / 1000}k docs each`);
    }
    await mongo.close();

    say('');
    say(formatTable(rows));
  } finally {
    await stopAll(children);
    await sandbox.stop();
    await stack.stop();
  }
}

main().catch((error) => {
  console.error('[bench] failed:', error);
  process.exit(1);
});
