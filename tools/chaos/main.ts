import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { creditsForRefund } from '../../src/credits/rules';
import { collectionNames } from '../../src/mongo/collections';
import { ensureWorkflowBundle } from '../../src/temporal/workflow-bundle';
import { purchaseWorkflowType } from '../../workflows/purchase/contract';
import { ensureBinaries } from '../stack/binaries';
import { ensureEmbeddedMongo } from '../stack/embedded-mongo-build';
import { stackPaths } from '../stack/paths';
import { freePort } from '../stack/ports';
import { type RunningServer, startEmbeddedMongo, startTemporal } from '../stack/servers';
import { startStripeSandbox } from '../stripe-sandbox/server';
import { type NodeProcess, type PluginSite, startNodeProcess, startPluginSite } from './processes';

// `npm run chaos -- --purchases N [--seed S]`: N purchases through the Stripe sandbox with Stripe's
// habits while the worker, Temporal, the database, Stripe and the plugin sites fail; then checks
// what the database and the sandbox say against what must hold. See README "Chaos run".

// ---------------------------------------------------------------- arguments, randomness, output

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} takes a whole number`);
  return value;
}
const N = argument('purchases', 20);
const SEED = argument('seed', 1);
const CONCURRENCY = argument('concurrency', 8);
const INFRA = !process.argv.includes('--no-infra-restarts');
const REPORT = (() => {
  const at = process.argv.indexOf('--report');
  return at >= 0 ? process.argv[at + 1]! : join(stackPaths().root, 'chaos-report.json');
})();

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rng = mulberry32(SEED * 7919 + 17);
const chance = (p: number) => rng() < p;
const between = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
function pick<T>(weighted: Array<[T, number]>): T {
  const total = weighted.reduce((sum, [, w]) => sum + w, 0);
  let r = rng() * total;
  for (const [value, w] of weighted) {
    r -= w;
    if (r < 0) return value;
  }
  return weighted[weighted.length - 1]![0];
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const started = Date.now();
const clock = () => `${String(Math.round((Date.now() - started) / 1000)).padStart(4)}s`;
const say = (line: string) => console.log(`[chaos ${clock()}] ${line}`);

// ---------------------------------------------------------------- what is injected, what is found

const injected: Record<string, number> = {};
const inject = (what: string, by = 1) => {
  injected[what] = (injected[what] ?? 0) + by;
};
const violations: Array<{ check: string; detail: string }> = [];
const violate = (check: string, detail: string) => violations.push({ check, detail });
const found: Record<string, number | string> = {};

type Payment = 'paid' | 'async_paid' | 'async_failed' | 'expired' | 'abandoned';
type Delivery = 'once' | 'twice' | 'reversed' | 'reconcile_only';
type AfterSale = 'none' | 'refund_full' | 'refund_partial' | 'dispute_won' | 'dispute_lost';

interface Plan {
  index: number;
  site: number;
  user: { id: string; email: string };
  payment: Payment;
  delivery: Delivery;
  afterSale: AfterSale;
  verifies: number;
  deductions: number;
  purchase_id?: string;
  session_id?: string;
  payment_intent?: string;
  charge?: string;
  dispute?: string;
  refundAmount?: number;
  /** Event ids the buyer's payment made, never re-sent for reconcile_only purchases. */
  withheld: Set<string>;
  afterSaleDone: boolean;
  fulfilledSeen: boolean;
}

function plan(index: number, sites: number, users: number): Plan {
  const payment = pick<Payment>([
    ['paid', 62],
    ['async_paid', 12],
    ['async_failed', 8],
    ['expired', 10],
    ['abandoned', 8],
  ]);
  const delivery = pick<Delivery>(
    payment === 'paid'
      ? [
          ['once', 40],
          ['twice', 20],
          ['reversed', 20],
          ['reconcile_only', 20],
        ]
      : [
          ['once', 50],
          ['twice', 25],
          ['reversed', 25],
        ],
  );
  const paid = payment === 'paid' || payment === 'async_paid';
  const afterSale = paid
    ? pick<AfterSale>([
        ['none', 64],
        ['refund_full', 10],
        ['refund_partial', 8],
        ['dispute_won', 9],
        ['dispute_lost', 9],
      ])
    : 'none';
  const userNumber = between(1, users);
  return {
    index,
    site: userNumber % sites,
    user: { id: String(userNumber), email: `buyer${userNumber}@example.jp` },
    payment,
    delivery,
    afterSale,
    verifies: delivery === 'reconcile_only' ? 0 : between(0, 3),
    deductions: paid ? between(0, 4) : 0,
    withheld: new Set(),
    afterSaleDone: false,
    fulfilledSeen: false,
  };
}

// ---------------------------------------------------------------- HTTP helpers

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field
  body: any;
}

async function http(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Answer> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 30_000) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body };
  } catch (error) {
    return { status: 0, body: String(error) };
  }
}

/** Retries what a plugin or an operator would retry: network errors and 5xx (and 429). */
async function retrying(what: string, run: () => Promise<Answer>, attempts = 40): Promise<Answer> {
  let last: Answer = { status: 0, body: null };
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    last = await run();
    // 409 "still in progress": an earlier try of the same key is running, or its claim was not
    // released (the database was down); the plugin tries again later.
    const inProgress = last.status === 409 && /still in progress/.test(JSON.stringify(last.body));
    if (last.status !== 0 && last.status < 500 && last.status !== 429 && !inProgress) return last;
    inject('client retries after 5xx, 429, 409 in progress or network error');
    await sleep(Math.min(500 * attempt, 3_000));
  }
  throw new Error(`${what}: still ${last.status} after ${attempts} attempts: ${JSON.stringify(last.body)}`);
}

// ---------------------------------------------------------------- the run

async function main(): Promise<number> {
  say(`N=${N} seed=${SEED} concurrency=${CONCURRENCY} infra restarts=${INFRA}`);
  const scratch = mkdtempSync(join(tmpdir(), 'rakubun-chaos-'));
  const logDir = join(scratch, 'logs');
  mkdirSync(logDir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];

  // The private stack: Temporal with a SQLite file and the MongoDB-wire server with a journal, so
  // both can be restarted on the same port with the same data.
  const bins = await ensureBinaries(['temporal'], say);
  const mongoCommand = await ensureEmbeddedMongo(say);
  const temporalPort = await freePort();
  const mongoPort = await freePort();
  const temporalDb = join(scratch, 'temporal.db');
  const mongoJournal = join(scratch, 'mongo', 'data.journal');
  const startTemporalServer = () =>
    startTemporal({ bin: bins.temporal, logDir, port: temporalPort, dbFile: temporalDb });
  const startMongoServer = () =>
    startEmbeddedMongo({ command: mongoCommand, logDir, dataFile: mongoJournal, port: mongoPort });
  let temporal: RunningServer | undefined = await startTemporalServer();
  let mongo: RunningServer | undefined = await startMongoServer();
  stops.push(async () => {
    await temporal?.stop();
    await mongo?.stop();
  });
  await ensureWorkflowBundle(say);

  const webhookSecret = `whsec_${randomBytes(24).toString('hex')}`;
  const stripeKey = `sk_test_chaos_${randomBytes(12).toString('hex')}`;
  const adminToken = randomBytes(32).toString('hex');
  const encryptionKey = randomBytes(32).toString('hex');
  const secrets: string[] = [webhookSecret, stripeKey, adminToken, encryptionKey];

  const sandbox = await startStripeSandbox({ port: 0, webhookUrl: null, webhookSecret, asyncSettleMs: 3000 });
  stops.unshift(() => sandbox.stop());
  const control = (path: string, body: Record<string, unknown> = {}, method = 'POST') =>
    http(`${sandbox.url}/_sandbox/${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: method === 'GET' ? undefined : JSON.stringify(body),
    });
  const stripeGet = (path: string) =>
    retrying(`GET ${path}`, () =>
      http(`${sandbox.url}${path}`, { headers: { Authorization: `Bearer ${stripeKey}` } }),
    );

  const apiPort = await freePort();
  const api = `http://127.0.0.1:${apiPort}`;
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: api,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_TASK_QUEUE: 'rakubun-chaos',
    MONGODB_URL: `mongodb://127.0.0.1:${mongoPort}`,
    MONGODB_DATABASE: 'rakubun_chaos',
    STRIPE_SECRET_KEY: stripeKey,
    STRIPE_API_URL: sandbox.url,
    STRIPE_WEBHOOK_SECRET: webhookSecret,
    ADMIN_API_TOKEN: adminToken,
    WEBHOOK_SECRET_ENCRYPTION_KEY: encryptionKey,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    REGISTRATION_MODE: 'open',
    RATE_LIMIT_PER_MINUTE: '1000000000',
    REGISTRATION_RATE_LIMIT_PER_MINUTE: '1000000',
    RECONCILE_INTERVAL_SECONDS: '5',
    // Plugin sites that fail for longer than this window get dead letters, with their reason.
    WEBHOOK_RETRY_DELAYS_SECONDS: '1,2,4',
    WEBHOOK_RETRY_WINDOW_SECONDS: '25',
    PAYMENT_VERIFY_WAIT_MS: '3000',
  };
  const apiLog = join(logDir, 'api.log');
  const workerLog = join(logDir, 'worker.log');
  const startApi = () =>
    startNodeProcess({
      name: 'api',
      entry: 'api.ts',
      env,
      logFile: apiLog,
      ready: async () => (await http(`${api}/health`, { timeoutMs: 1000 })).status === 200,
    });
  const startWorker = () =>
    startNodeProcess({
      name: 'worker',
      entry: 'worker.ts',
      env,
      logFile: workerLog,
      ready: (output) => output.includes('worker polling task queue'),
      timeoutMs: 120_000,
    });
  const apiProcess: NodeProcess = await startApi();
  let worker: NodeProcess | undefined = await startWorker();
  stops.unshift(async () => {
    await worker?.stop();
    await apiProcess.stop();
  });
  await control('webhooks', { enabled: true, url: `${api}/api/v1/stripe/webhook` });
  say(`stack up: API ${api}, Temporal 127.0.0.1:${temporalPort}, MongoDB 127.0.0.1:${mongoPort}`);

  // Plugin sites, each one instance.
  const siteCount = Math.max(2, Math.min(6, Math.ceil(N / 50)));
  const sites: PluginSite[] = [];
  const instances: Array<{ instance_id: string; api_token: string; webhook_secret: string }> = [];
  for (let i = 0; i < siteCount; i += 1) {
    const site = await startPluginSite();
    sites.push(site);
    stops.unshift(() => site.close());
    const registered = await retrying('register', () =>
      http(`${api}/api/v1/plugins/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'Rakubun-WordPress-Plugin/2.0.1' },
        body: JSON.stringify({
          instance_id: `chaos-site-${SEED}-${i}`,
          site_url: site.url,
          admin_email: `admin${i}@example.jp`,
          wordpress_version: '6.5',
          plugin_version: '2.0.1',
        }),
      }),
    );
    if (registered.status !== 200) throw new Error(`registration: ${JSON.stringify(registered.body)}`);
    instances.push(registered.body);
    secrets.push(registered.body.api_token, registered.body.webhook_secret);
  }
  const asPlugin = (site: number, method: string, path: string, body?: unknown, key?: string) => {
    const instance = instances[site]!;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${instance.api_token}`,
      'X-Instance-ID': instance.instance_id,
      'User-Agent': 'Rakubun-WordPress-Plugin/2.0.1',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (key) headers['Idempotency-Key'] = key;
    return http(`${api}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  };
  const packages = await retrying('packages', () => http(`${api}/api/v1/packages`));
  const pack = packages.body.packages.packages.find((p: { id: string }) => p.id === 'pkg_article_10');
  const packCredits: number = pack.credits + pack.bonus_credits;

  const plans = Array.from({ length: N }, (_, i) => plan(i, siteCount, Math.max(3, Math.ceil(N / 3))));
  for (const p of plans) {
    inject(`purchase: ${p.payment}`);
    inject(`delivery: ${p.delivery}`);
    if (p.afterSale !== 'none') inject(`after sale: ${p.afterSale}`);
  }
  const deductions: Array<{ key: string; site: number; status: number }> = [];
  const verifyAnswers: Array<{ plan: Plan; answer: Answer }> = [];

  // -------------------------------------------------------------- Stripe's own retries
  // Stripe retries a delivery that was not answered 2xx. The sandbox sends once, so the run plays
  // that part: every event without a 2xx delivery is sent again (not those of reconcile_only
  // purchases' payments, which only reconciliation may find).
  const withheld = new Set<string>();
  async function stripeRetries(minAgeSeconds: number): Promise<number> {
    const listed = await control('events', {}, 'GET');
    if (listed.status !== 200) return 0;
    const now = Date.now() / 1000;
    const due = (
      listed.body.events as Array<{
        id: string;
        created: number;
        deliveries: Array<{ status: number | null }>;
      }>
    ).filter(
      (event) =>
        !withheld.has(event.id) &&
        now - event.created >= minAgeSeconds &&
        !event.deliveries.some((d) => d.status !== null && d.status >= 200 && d.status < 300),
    );
    if (due.length === 0) return 0;
    const ids = due.map((event) => event.id).reverse(); // oldest first
    for (let i = 0; i < ids.length; i += 50) await control('events/resend', { ids: ids.slice(i, i + 50) });
    inject("events re-sent as Stripe's retries", ids.length);
    return ids.length;
  }

  // -------------------------------------------------------------- one purchase, as a buyer and a plugin

  async function waitFulfilled(p: Plan, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const view = await asPlugin(p.site, 'GET', `/api/v1/purchases/${p.purchase_id}`);
      if (view.status === 200 && view.body.status === 'fulfilled') return true;
      await sleep(500);
    }
    return false;
  }

  async function runPurchase(p: Plan): Promise<void> {
    const created = await retrying('checkout', () =>
      asPlugin(
        p.site,
        'POST',
        '/api/v1/checkout/sessions',
        {
          user_id: p.user.id,
          user_email: p.user.email,
          credit_type: 'article',
          package_id: pack.id,
          amount: pack.price,
          currency: pack.currency,
        },
        `chaos-${SEED}-${p.index}`,
      ),
    );
    if (created.status !== 200) throw new Error(`checkout ${created.status} ${JSON.stringify(created.body)}`);
    p.purchase_id = created.body.purchase_id;
    p.session_id = created.body.session_id;
    await sleep(between(0, 300));

    const sendOptions: Record<string, unknown> = {};
    if (p.delivery === 'twice') sendOptions.times = 2;
    if (p.delivery === 'reversed') sendOptions.order = 'reverse';
    if (p.delivery === 'reconcile_only') sendOptions.send_webhooks = false;
    let paid: Answer | undefined;
    if (p.payment === 'paid') {
      paid = await control(`checkout/sessions/${p.session_id}/pay`, { outcome: 'succeeded', ...sendOptions });
    } else if (p.payment === 'async_paid' || p.payment === 'async_failed') {
      paid = await control(`checkout/sessions/${p.session_id}/pay`, {
        outcome: p.payment === 'async_paid' ? 'async_succeeded' : 'async_failed',
        settle_after_ms: between(1_000, 8_000),
        ...sendOptions,
      });
      inject('async payments settling late');
    } else if (p.payment === 'expired') {
      paid = await control(`checkout/sessions/${p.session_id}/expire`, sendOptions);
    }
    if (paid && paid.status !== 200) throw new Error(`sandbox pay: ${JSON.stringify(paid.body)}`);
    if (paid) {
      p.payment_intent = paid.body.object.payment_intent ?? undefined;
      if (p.delivery === 'reconcile_only')
        for (const event of paid.body.events as Array<{ id: string }>) {
          withheld.add(event.id);
          p.withheld.add(event.id);
        }
    }

    // The plugin: the buyer back from Checkout asks checkout/verify, sometimes several tabs at once.
    if (p.verifies > 0) {
      const answers = await Promise.all(
        Array.from({ length: p.verifies }, () =>
          asPlugin(p.site, 'POST', '/api/v1/checkout/verify', { session_id: p.session_id }),
        ),
      );
      for (const answer of answers) verifyAnswers.push({ plan: p, answer });
      inject('checkout/verify calls', p.verifies);
    }

    const paidKind = p.payment === 'paid' || p.payment === 'async_paid';
    if (!paidKind) return;
    const fulfilled = await waitFulfilled(p, 120_000);
    p.fulfilledSeen = fulfilled;
    if (!fulfilled) {
      // The checks at the end judge it; after-sale steps need a fulfilled purchase.
      say(`purchase ${p.index} (${p.payment}/${p.delivery}) not fulfilled within 120 s during the run`);
      return;
    }

    // Parallel deductions on the buyer's account, as generations spend credits.
    if (p.deductions > 0) {
      await Promise.all(
        Array.from({ length: p.deductions }, async (_, k) => {
          const key = `chaos-deduct-${SEED}-${p.index}-${k}`;
          const answer = await retrying('deduct', () =>
            asPlugin(
              p.site,
              'POST',
              '/api/v1/users/deduct-credits',
              { user_id: p.user.id, user_email: p.user.email, credit_type: 'article', amount: between(1, 6) },
              key,
            ),
          );
          deductions.push({ key, site: p.site, status: answer.status });
        }),
      );
    }

    if (p.afterSale === 'none') return;
    const intent = await stripeGet(`/v1/payment_intents/${p.payment_intent}`);
    p.charge = intent.body.latest_charge;
    if (p.afterSale === 'refund_full' || p.afterSale === 'refund_partial') {
      const amount = p.afterSale === 'refund_full' ? undefined : between(1, pack.price - 1);
      p.refundAmount = amount ?? pack.price;
      const refunded = await control(`charges/${p.charge}/refund`, amount ? { amount } : {});
      if (refunded.status !== 200) throw new Error(`refund: ${JSON.stringify(refunded.body)}`);
      if (chance(0.4)) {
        await control('events/resend', { ids: refunded.body.events.map((e: { id: string }) => e.id) });
        inject('after-sale events sent twice');
      }
    } else {
      const disputed = await control(`charges/${p.charge}/dispute`, {});
      if (disputed.status !== 200) throw new Error(`dispute: ${JSON.stringify(disputed.body)}`);
      p.dispute = disputed.body.object.id;
      await sleep(between(500, 4_000));
      const closed = await control(`disputes/${p.dispute}/close`, {
        status: p.afterSale === 'dispute_won' ? 'won' : 'lost',
        ...(chance(0.3) ? { times: 2 } : {}),
      });
      if (closed.status !== 200) throw new Error(`dispute close: ${JSON.stringify(closed.body)}`);
      // Sometimes the close is seen before the open (Stripe promises no order).
      if (chance(0.3)) {
        await control('events/resend', {
          ids: [...closed.body.events, ...disputed.body.events].map((e: { id: string }) => e.id),
        });
        inject('dispute events re-sent out of order');
      }
    }
    p.afterSaleDone = true;
  }

  // -------------------------------------------------------------- faults, while the purchases run

  let driving = true;
  const faultLoops: Array<Promise<void>> = [];
  const loop = (name: string, everyMs: [number, number], run: () => Promise<void>) =>
    faultLoops.push(
      (async () => {
        await sleep(between(everyMs[0] / 2, everyMs[1] / 2));
        while (driving) {
          try {
            await run();
          } catch (error) {
            say(`${name}: ${(error as Error).message}`);
          }
          const wait = between(everyMs[0], everyMs[1]);
          for (let waited = 0; waited < wait && driving; waited += 250) await sleep(250);
        }
      })(),
    );

  loop('worker kill', [8_000, 20_000], async () => {
    await worker?.kill();
    worker = undefined;
    inject('worker killed (SIGKILL) and restarted');
    say('worker killed');
    await sleep(between(200, 3_000));
    worker = await startWorker();
  });
  loop('stripe faults', [2_000, 6_000], async () => {
    const kind = pick<'500' | '429' | 'slow'>([
      ['500', 4],
      ['429', 2],
      ['slow', 3],
    ]);
    const count = between(1, 8);
    const body =
      kind === 'slow' ? { delay_ms: between(1_000, 6_000), count } : { status: Number(kind), count };
    await control('faults', { ...body, path_prefix: '/v1/' });
    inject(`stripe API calls answered ${kind === 'slow' ? 'slowly' : kind}`, count);
  });
  loop('plugin sites fail', [6_000, 15_000], async () => {
    const site = sites[between(0, sites.length - 1)]!;
    // Mostly shorter than the retry window (delivered late), sometimes longer (dead letters).
    const ms = chance(0.3) ? between(30_000, 40_000) : between(2_000, 10_000);
    site.failFor(ms);
    inject(ms > 25_000 ? 'plugin site failing beyond the retry window' : 'plugin site failing for a while');
  });
  loop('webhooks off', [10_000, 25_000], async () => {
    await control('webhooks', { enabled: false });
    inject('Stripe webhooks switched off for a while');
    await sleep(between(2_000, 6_000));
    await control('webhooks', { enabled: true });
  });
  loop('stripe retries', [2_000, 4_000], async () => {
    await stripeRetries(3);
  });
  if (INFRA) {
    loop('temporal restart', [35_000, 60_000], async () => {
      say('restarting the Temporal dev server (same port, same SQLite file)');
      await temporal?.stop();
      temporal = undefined;
      await sleep(between(500, 3_000));
      temporal = await startTemporalServer();
      inject('Temporal dev server restarted');
    });
    loop('mongo restart', [30_000, 55_000], async () => {
      say('killing the MongoDB-wire server (SIGKILL), restarting it on its journal');
      await mongo?.kill();
      mongo = undefined;
      await sleep(between(500, 4_000));
      mongo = await startMongoServer();
      inject('MongoDB-wire server killed and restarted');
    });
  }

  // -------------------------------------------------------------- drive the purchases
  const driveStarted = Date.now();
  let next = 0;
  let done = 0;
  const failures: string[] = [];
  const progress = setInterval(() => {
    say(
      `progress: ${done}/${N} purchases driven, ${Object.entries(injected)
        .filter(([k]) => !k.startsWith('purchase:') && !k.startsWith('delivery:'))
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`,
    );
  }, 10_000);
  // A short run still meets every fault at least once: it lasts at least this long.
  const minDriveMs = INFRA ? 70_000 : 30_000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < plans.length) {
        const p = plans[next++]!;
        try {
          await runPurchase(p);
        } catch (error) {
          failures.push(`purchase ${p.index}: ${(error as Error).message}`);
          violate('driver could complete its calls', `purchase ${p.index}: ${(error as Error).message}`);
        }
        done += 1;
      }
    }),
  );
  while (Date.now() - driveStarted < minDriveMs) await sleep(500);
  driving = false;
  await Promise.all(faultLoops);
  clearInterval(progress);
  say(`driving done in ${Math.round((Date.now() - driveStarted) / 1000)}s; letting everything settle`);

  // -------------------------------------------------------------- settle: faults off, Stripe keeps retrying
  await control('faults', {}, 'DELETE');
  await control('webhooks', { enabled: true });
  for (const site of sites) site.heal();
  if (!temporal) temporal = await startTemporalServer();
  if (!mongo) mongo = await startMongoServer();
  if (!worker?.alive()) worker = await startWorker();

  const mongoClient = new MongoClient(env.MONGODB_URL!);
  await mongoClient.connect();
  const db = mongoClient.db(env.MONGODB_DATABASE);
  const temporalConnection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
  const temporalClient = new Client({ connection: temporalConnection });

  const expectedStatus = (p: Plan) => {
    if (p.afterSaleDone && p.afterSale === 'refund_full') return 'refunded';
    if (p.afterSaleDone && p.afterSale === 'dispute_lost') return 'disputed';
    return {
      paid: 'fulfilled',
      async_paid: 'fulfilled',
      async_failed: 'failed',
      expired: 'expired',
      abandoned: 'pending',
    }[p.payment];
  };
  // Abandoned checkouts wait for their deadline: the only purchase runs that may still be Running.
  const waiting = new Set(
    plans.filter((p) => p.payment === 'abandoned').map((p) => `purchase:${p.purchase_id}`),
  );
  async function runningPurchaseRuns() {
    const runs: Array<{ workflowId: string; reason: string }> = [];
    for await (const run of temporalClient.workflow.list({
      query: `WorkflowType = '${purchaseWorkflowType}' AND ExecutionStatus = 'Running'`,
    }))
      runs.push({
        workflowId: run.workflowId,
        reason: String(run.searchAttributes?.RakubunStatusReason ?? ''),
      });
    return runs;
  }
  const settleDeadline = Date.now() + Math.max(180_000, N * 400);
  let unsettled: Plan[] = plans;
  while (Date.now() < settleDeadline) {
    await stripeRetries(0);
    const docs = await db
      .collection(collectionNames.purchases)
      .find({}, { projection: { purchase_id: 1, status: 1 } })
      .toArray();
    const status = new Map(docs.map((d) => [d.purchase_id as string, d.status as string]));
    unsettled = plans.filter((p) => p.purchase_id && status.get(p.purchase_id) !== expectedStatus(p));
    // Refunds and disputes of purchases fulfilled only now (late, by reconciliation).
    for (const p of plans)
      if (!p.afterSaleDone && p.afterSale !== 'none' && status.get(p.purchase_id!) === 'fulfilled') {
        p.fulfilledSeen = true;
        await afterSaleLate(p);
      }
    const pendingDeliveries = await db
      .collection(collectionNames.webhookDeliveries)
      .countDocuments({ status: 'pending' });
    const ledgerReady = await afterSalesInLedger();
    const stuck = (await runningPurchaseRuns()).filter((run) => !waiting.has(run.workflowId)).length;
    say(
      `settling: ${unsettled.length} purchases not yet as expected, ${pendingDeliveries} webhook deliveries pending, ${ledgerReady} after-sales not yet in the ledger, ${stuck} purchase runs still running`,
    );
    if (unsettled.length === 0 && pendingDeliveries === 0 && ledgerReady === 0 && stuck === 0) break;
    await sleep(3_000);
  }

  async function afterSaleLate(p: Plan) {
    try {
      const intent = await stripeGet(`/v1/payment_intents/${p.payment_intent}`);
      p.charge = intent.body.latest_charge;
      if (p.afterSale.startsWith('refund')) {
        const amount = p.afterSale === 'refund_full' ? undefined : between(1, pack.price - 1);
        p.refundAmount = amount ?? pack.price;
        await control(`charges/${p.charge}/refund`, amount ? { amount } : {});
      } else {
        const disputed = await control(`charges/${p.charge}/dispute`, {});
        p.dispute = disputed.body.object.id;
        await control(`disputes/${p.dispute}/close`, {
          status: p.afterSale === 'dispute_won' ? 'won' : 'lost',
        });
      }
      p.afterSaleDone = true;
    } catch (error) {
      say(`late after-sale of ${p.index}: ${(error as Error).message}`);
    }
  }

  async function afterSalesInLedger(): Promise<number> {
    let missing = 0;
    for (const p of plans) {
      if (!p.afterSaleDone) continue;
      const kinds = await db
        .collection(collectionNames.ledgerEntries)
        .find({ ref: p.purchase_id, kind: { $in: ['refund', 'dispute_hold', 'dispute_release'] } })
        .project({ kind: 1 })
        .toArray();
      const has = (kind: string) => kinds.some((k) => k.kind === kind);
      if (p.afterSale.startsWith('refund') && !has('refund')) missing += 1;
      if (p.afterSale.startsWith('dispute') && !has('dispute_hold')) missing += 1;
      if (p.afterSale === 'dispute_won' && !has('dispute_release')) missing += 1;
    }
    return missing;
  }

  // -------------------------------------------------------------- the checks
  say('checking');
  const entries = await db.collection(collectionNames.ledgerEntries).find({}).toArray();
  const byRef = new Map<string, typeof entries>();
  for (const entry of entries) {
    if (!entry.ref) continue;
    const list = byRef.get(entry.ref) ?? [];
    list.push(entry);
    byRef.set(entry.ref, list);
  }
  const outcome: Record<string, number> = {};
  for (const p of plans) {
    if (!p.purchase_id || !p.session_id) continue;
    const session = await stripeGet(`/v1/checkout/sessions/${p.session_id}`);
    const paidAtStripe = session.body.payment_status === 'paid';
    const list = byRef.get(p.purchase_id) ?? [];
    const count = (kind: string) => list.filter((e) => e.kind === kind).length;
    const sum = (kind: string) => list.filter((e) => e.kind === kind).reduce((s, e) => s + e.delta, 0);
    const label = `purchase ${p.index} ${p.purchase_id} (${p.payment}/${p.delivery}/${p.afterSale})`;
    outcome[paidAtStripe ? 'paid at Stripe' : 'not paid at Stripe'] =
      (outcome[paidAtStripe ? 'paid at Stripe' : 'not paid at Stripe'] ?? 0) + 1;
    if (paidAtStripe !== (p.payment === 'paid' || p.payment === 'async_paid'))
      violate(
        'the sandbox did what was planned',
        `${label}: Stripe payment_status ${session.body.payment_status}`,
      );
    if (paidAtStripe && (count('purchase') !== 1 || sum('purchase') !== packCredits))
      violate(
        'paid purchase credited exactly once',
        `${label}: ${count('purchase')} purchase entries, +${sum('purchase')}`,
      );
    if (!paidAtStripe && count('purchase') !== 0)
      violate('unpaid purchase not credited', `${label}: ${count('purchase')} purchase entries`);
    const doc = await db.collection(collectionNames.purchases).findOne({ purchase_id: p.purchase_id });
    if (doc?.status !== expectedStatus(p))
      violate(
        'purchase ends as Stripe says',
        `${label}: status ${doc?.status}, expected ${expectedStatus(p)}`,
      );
    if (!paidAtStripe) continue;
    const charge = (
      await stripeGet(`/v1/payment_intents/${session.body.payment_intent}?expand[]=latest_charge`)
    ).body.latest_charge;
    const refunded = charge?.amount_refunded ?? 0;
    const owedBack =
      refunded > 0 ? creditsForRefund({ credits: packCredits, amount: pack.price }, refunded) : 0;
    if (-sum('refund') !== owedBack)
      violate(
        'refund taken back exactly once',
        `${label}: refunded ${refunded}, ledger ${sum('refund')}, expected -${owedBack}`,
      );
    if (p.dispute) {
      const dispute = (await stripeGet(`/v1/disputes/${p.dispute}`)).body;
      const held = count('dispute_hold');
      const released = count('dispute_release');
      if (held !== 1) violate('dispute held exactly once', `${label}: ${held} holds`);
      if (dispute.status === 'won' && (released !== 1 || sum('dispute_release') !== -sum('dispute_hold')))
        violate('won dispute given back exactly once', `${label}: ${released} releases`);
      if (dispute.status === 'lost' && released !== 0)
        violate('lost dispute taken back (stays removed)', `${label}: ${released} releases`);
    } else if (count('dispute_hold') + count('dispute_release') > 0) {
      violate('no dispute entries without a dispute', label);
    }
  }
  Object.assign(found, outcome);

  // Verify answers: a 200 only for a purchase that is paid, with the package's credits.
  for (const { plan: p, answer } of verifyAnswers) {
    found[`verify ${answer.status}`] = ((found[`verify ${answer.status}`] as number) ?? 0) + 1;
    if (
      answer.status === 200 &&
      (answer.body.credits_added !== packCredits || !['paid', 'async_paid'].includes(p.payment))
    )
      violate('checkout/verify tells the truth', `purchase ${p.index}: ${JSON.stringify(answer.body)}`);
    if (answer.status >= 500 || answer.status === 0)
      found['verify 5xx or no answer (retried by the plugin)'] =
        ((found['verify 5xx or no answer (retried by the plugin)'] as number) ?? 0) + 1;
  }

  // Deductions: every 200 is one entry; every 402 none; none leaves a balance below zero.
  const deductEntries = entries.filter((e) => e.kind === 'deduct');
  const byKey = new Map<string, number>();
  for (const e of deductEntries) byKey.set(e.idempotency_key, (byKey.get(e.idempotency_key) ?? 0) + 1);
  for (const d of deductions) {
    found[`deduct ${d.status}`] = ((found[`deduct ${d.status}`] as number) ?? 0) + 1;
    const n = byKey.get(`deduct:${d.key}`) ?? 0;
    if (d.status === 200 && n !== 1) violate('a deduction applied exactly once', `${d.key}: ${n} entries`);
    if (d.status !== 200 && n !== 0)
      violate('a refused deduction applied nothing', `${d.key}: ${d.status}, ${n} entries`);
  }
  for (const e of deductEntries)
    if ((e.balances_after?.[e.credit_type] ?? 0) < 0)
      violate('no balance below zero by a deduction', `${e._id}: ${JSON.stringify(e.balances_after)}`);

  // Every account's entries sum to its balance: the chain of entries (seq 1, 2, ... without gaps,
  // each entry's balances the previous ones plus its delta), the balance the API answers (its last
  // entry), and the cached head in ledger_accounts (some entry's exact state: it may lag by design).
  const accounts = await db.collection(collectionNames.ledgerAccounts).find({}).toArray();
  const entriesByAccount = new Map<string, typeof entries>();
  for (const e of entries) {
    const list = entriesByAccount.get(e.account_id) ?? [];
    list.push(e);
    entriesByAccount.set(e.account_id, list);
  }
  for (const account of accounts) {
    const id = account._id as unknown as string;
    const list = (entriesByAccount.get(id) ?? []).sort((a, b) => a.seq - b.seq);
    const running: Record<string, number> = {};
    list.forEach((e, i) => {
      if (e.seq !== i + 1) violate('ledger seq without gaps', `${id}: entry ${i} has seq ${e.seq}`);
      running[e.credit_type] = (running[e.credit_type] ?? 0) + e.delta;
      for (const [type, value] of Object.entries(e.balances_after as Record<string, number>))
        if ((running[type] ?? 0) !== value)
          violate(
            'entries sum to the balance',
            `${id} seq ${e.seq} ${type}: entries sum ${running[type] ?? 0}, balance ${value}`,
          );
    });
    const last = (list[list.length - 1]?.balances_after ?? {}) as Record<string, number>;
    if (account.seq > list.length)
      violate('cached head is an entry', `${id}: cache at seq ${account.seq}, ${list.length} entries`);
    else if (
      account.seq > 0 &&
      JSON.stringify(list[account.seq - 1]!.balances_after) !== JSON.stringify(account.balances)
    )
      violate('cached head is an entry', `${id}: cache balances differ from entry ${account.seq}`);
    if (account.seq < list.length)
      found['ledger accounts whose cached head lags (read forward)'] =
        ((found['ledger accounts whose cached head lags (read forward)'] as number) ?? 0) + 1;
    const site = instances.findIndex((i) => i.instance_id === account.instance_id);
    if (site >= 0) {
      const read = await retrying('credits', () =>
        asPlugin(site, 'GET', `/api/v1/users/credits?user_id=${encodeURIComponent(account.user_id)}`),
      );
      const answered = read.body?.credits?.article_credits;
      if (answered !== (last.article ?? 0))
        violate('the API answers the ledger balance', `${id}: API ${answered}, entries ${last.article ?? 0}`);
    }
  }
  found['ledger accounts'] = accounts.length;
  found['ledger entries'] = entries.length;

  // Webhooks to plugins: each delivered, dead-lettered with a reason, or ended on purpose.
  const deliveries = await db.collection(collectionNames.webhookDeliveries).find({}).toArray();
  for (const d of deliveries) {
    found[`webhook deliveries ${d.status}`] = ((found[`webhook deliveries ${d.status}`] as number) ?? 0) + 1;
    if (d.status === 'pending') violate('every webhook delivered or dead-lettered', `${d._id} still pending`);
    if (d.status === 'dead_lettered' && !d.end_reason)
      violate('dead letters carry a reason', `${d._id} dead-lettered without end_reason`);
    if (!['pending', 'delivered', 'dead_lettered', 'superseded'].includes(d.status))
      violate('every webhook delivered or dead-lettered', `${d._id} ended ${d.status} (${d.end_reason})`);
    if (d.status === 'delivered') {
      const site = sites[instances.findIndex((i) => i.instance_id === d.instance_id)];
      if (site && !site.received.has(d.event_id))
        violate('a delivered webhook reached its site', `${d._id}: the site never got ${d.event_id}`);
    }
  }
  const reasons = new Map<string, number>();
  for (const d of deliveries)
    if (d.status === 'dead_lettered') reasons.set(d.end_reason, (reasons.get(d.end_reason) ?? 0) + 1);
  for (const [reason, n] of reasons) found[`dead-letter reason: ${reason}`] = n;

  // No workflow left stuck: Running purchase runs only for purchases that legitimately wait.
  const runs = await runningPurchaseRuns();
  const running = runs.length;
  for (const run of runs)
    if (!waiting.has(run.workflowId))
      violate('no workflow left stuck', `${run.workflowId} still Running (${run.reason})`);
  found['purchase runs Running (abandoned checkouts wait for their deadline)'] = running;

  // No secret in any log.
  for (const file of [apiLog, workerLog]) {
    const text = readFileSync(file, 'utf8');
    found[`${file.endsWith('api.log') ? 'API' : 'worker'} log lines`] = text.split('\n').length;
    for (const secret of secrets)
      if (text.includes(secret))
        violate(
          'no secret in any log',
          `${file.split('/').pop()} contains a secret starting ${secret.slice(0, 8)}`,
        );
  }
  const siteStats = sites.map((s) => s.stats());
  found['plugin site requests'] = siteStats.reduce((s, x) => s + x.requests, 0);
  found['plugin site requests refused (500)'] = siteStats.reduce((s, x) => s + x.refused, 0);
  found.violations = violations.length;
  found['wall time (s)'] = Math.round((Date.now() - started) / 1000);

  await temporalConnection.close();
  await mongoClient.close();

  // -------------------------------------------------------------- the report
  const rows = [
    ...Object.entries(injected).map(([k, v]) => ['injected', k, String(v)]),
    ...Object.entries(found).map(([k, v]) => ['found', k, String(v)]),
  ];
  const width = Math.max(...rows.map((r) => r[1]!.length));
  console.log(`\n| what     | ${'item'.padEnd(width)} | count |`);
  console.log(`| -------- | ${'-'.repeat(width)} | ----- |`);
  for (const [kind, item, value] of rows)
    console.log(`| ${kind!.padEnd(8)} | ${item!.padEnd(width)} | ${value!.padStart(5)} |`);
  const byCheck = new Map<string, number>();
  for (const v of violations) byCheck.set(v.check, (byCheck.get(v.check) ?? 0) + 1);
  if (violations.length > 0) {
    console.log('\nVIOLATIONS:');
    for (const [check, n] of byCheck) console.log(`  ${check}: ${n}`);
    for (const v of violations.slice(0, 40)) console.log(`  - ${v.check}: ${v.detail}`);
  } else console.log('\nno violations');
  mkdirSync(join(REPORT, '..'), { recursive: true });
  writeFileSync(
    REPORT,
    `${JSON.stringify({ purchases: N, seed: SEED, concurrency: CONCURRENCY, infra_restarts: INFRA, injected, found, violations }, null, 2)}\n`,
  );
  console.log(`report: ${REPORT}; logs: ${logDir}`);

  for (const stop of stops) await stop().catch(() => {});
  if (violations.length === 0 && !process.argv.includes('--keep'))
    rmSync(scratch, { recursive: true, force: true });
  return violations.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error('[chaos] failed:', error);
    process.exit(2);
  },
);
