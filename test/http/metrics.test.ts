import assert from 'node:assert/strict';
import { freeLoopbackPort } from '../../src/temporal/worker-metrics';
import { uniqueTaskQueue } from '../helpers/env';
import { adminToken, call } from '../helpers/http';
import { freshInstance, testLedger } from '../helpers/ledger';
import { asPlugin, registerPlugin } from '../helpers/plugin-client';
import { startWorkerProcess } from '../helpers/worker-process';
import { type PurchaseWorld, startPurchaseWorld } from '../purchases/harness';
import { startReceiver } from '../webhooks/receiver';

// GET /metrics (src/metrics.ts): the API's on its own route, the worker's on WORKER_METRICS_PORT,
// both behind a token. In these tests the worker runs in the test's process, so the API's registry
// also holds the series the worker feeds (purchases, webhooks): in production each process shows its own.

const metricsToken = 'metrics-token-for-tests-0123456789abcdef';

type Sample = { name: string; labels: Record<string, string>; value: number };

function samples(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) return [];
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key!, value!]),
    );
    return [{ name: match[1]!, labels, value: Number(match[3]) }];
  });
}

/** The sum of a series over every sample whose labels include `labels`. */
function total(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('metrics: GET /metrics', function () {
  this.timeout(120_000);
  let world: PurchaseWorld;
  before(async () => {
    world = await startPurchaseWorld({ METRICS_TOKEN: metricsToken });
  });
  after(() => world.stop());

  async function scrape(token: string | null = metricsToken) {
    const response = await fetch(`${world.api.url}/metrics`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    };
  }

  it('answers 401 without a token or with a wrong one; METRICS_TOKEN and an operator token read it', async () => {
    const none = await scrape(null);
    assert.equal(none.status, 401);
    assert.equal(JSON.parse(none.text).error, 'unauthorized');
    assert.equal((await scrape('not-the-metrics-token-not-the-metrics-token')).status, 401);
    const read = await scrape();
    assert.equal(read.status, 200);
    assert.match(read.type ?? '', /^text\/plain/);
    assert.match(read.text, /# HELP http_requests_total /);
    assert.match(read.text, /process_cpu_user_seconds_total/);
    assert.equal((await scrape(adminToken)).status, 200, 'an operator may read it too');
  });

  it('exposes the named series after a request, a deduction and a purchase', async () => {
    const before = (await scrape()).text;

    // A request: counted by its declared route, never the raw URL.
    const instance = freshInstance();
    const granted = await call(world.api.url, 'POST', '/admin/v1/credits/adjust', {
      admin: true,
      body: {
        instance_id: instance,
        user_id: 3,
        user_email: 'three@example.jp',
        credit_type: 'article',
        delta: 2,
        reason: 'metrics test',
      },
    });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    // A deduction.
    const spent = await call(world.api.url, 'POST', '/api/v1/users/deduct-credits', {
      instance,
      body: { user_id: 3, user_email: 'three@example.jp', credit_type: 'article', amount: 1 },
    });
    assert.equal(spent.status, 200, JSON.stringify(spent.body));
    const short = await call(world.api.url, 'POST', '/api/v1/users/deduct-credits', {
      instance,
      body: { user_id: 3, user_email: 'three@example.jp', credit_type: 'article', amount: 5 },
    });
    assert.equal(short.status, 402);

    // A purchase, by a plugin whose site receives the credits_updated webhook.
    const site = await startReceiver();
    let purchaseId = '';
    try {
      const plugin = await registerPlugin(world.api.url, { site_url: site.url });
      const created = await asPlugin(world.api.url, plugin)('POST', '/api/v1/checkout/sessions', {
        body: {
          user_id: 78,
          user_email: 'metrics@example.jp',
          credit_type: 'article',
          package_id: 'pkg_article_10',
          amount: 750,
          currency: 'JPY',
        },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      await world.control(`checkout/sessions/${created.body.session_id}/pay`);
      await site.waitFor(1, 30_000, (w) => w.json?.event === 'credits_updated');
      purchaseId = created.body.purchase_id;
      const read = await asPlugin(world.api.url, plugin)('GET', `/api/v1/purchases/${purchaseId}`);
      assert.equal(read.status, 200);
    } finally {
      await site.close();
    }
    // The drain counts an attempt right after its answer; give it a moment to be written down.
    await new Promise((resolve) => setTimeout(resolve, 300));

    const after = (await scrape()).text;
    const grew = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(before, name, labels);
    const assertGrew = (name: string, labels: Record<string, string> = {}) => {
      const have = samples(after).filter((s) => s.name === name);
      assert.ok(
        grew(name, labels) >= 1,
        `${name} ${JSON.stringify(labels)} did not grow: ${JSON.stringify(have)}`,
      );
    };

    assertGrew('http_requests_total', {
      method: 'POST',
      route: '/api/v1/users/deduct-credits',
      status: '200',
    });
    assertGrew('http_requests_total', {
      method: 'POST',
      route: '/api/v1/users/deduct-credits',
      status: '402',
    });
    assertGrew('http_requests_total', { route: '/api/v1/purchases/:purchaseId', status: '200' });
    assertGrew('http_request_duration_seconds_count', { route: '/admin/v1/credits/adjust', status: '200' });
    assert.ok(!samples(after).some((s) => s.labels.route?.includes(purchaseId)), 'no raw URL is a label');
    assertGrew('ledger_writes_total', { kind: 'deduct', result: 'written' });
    assertGrew('ledger_writes_total', { kind: 'deduct', result: 'refused' });
    assertGrew('ledger_writes_total', { kind: 'adjust', result: 'written' });
    assertGrew('ledger_writes_total', { kind: 'purchase', result: 'written' });
    assertGrew('purchase_outcomes_total', { status: 'fulfilled' });
    assertGrew('purchase_fulfilment_seconds_count');
    assertGrew('webhook_attempts_total', { outcome: 'delivered' });
    assertGrew('webhook_attempt_duration_seconds_count', { outcome: 'delivered' });
    assertGrew('webhook_delivery_latency_seconds_count');
    assert.match(after, /# HELP ledger_lost_races_total /);
  });

  it('counts the ledger races a writer lost (each retried)', async () => {
    const ledger = await testLedger({ localQueue: false, maxAttempts: 1_000 });
    const ref = { instance_id: freshInstance('race'), user_id: 1 };
    const before = total((await scrape()).text, 'ledger_lost_races_total', { kind: 'grant' });
    await Promise.all(
      Array.from({ length: 20 }, () => ledger.grant({ ...ref, credit_type: 'article', amount: 1 })),
    );
    assert.equal((await ledger.balances(ref)).balances.article, 20);
    const after = total((await scrape()).text, 'ledger_lost_races_total', { kind: 'grant' });
    assert.ok(after > before, `lost races ${before} -> ${after}`);
  });
});

describe('metrics: the worker process on WORKER_METRICS_PORT', function () {
  this.timeout(90_000);

  it("answers 401 without a token, and with one its own series and the Temporal SDK's", async () => {
    const port = await freeLoopbackPort();
    const worker = await startWorkerProcess({
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('metrics'),
      WORKER_METRICS_PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_TOKEN: metricsToken,
    });
    try {
      const url = `http://127.0.0.1:${port}/metrics`;
      assert.equal((await fetch(url)).status, 401);
      assert.equal(
        (await fetch(url, { headers: { Authorization: 'Bearer wrong-token-wrong-token-wrong-token' } }))
          .status,
        401,
      );
      assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
      let text = '';
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const response = await fetch(url, { headers: { Authorization: `Bearer ${metricsToken}` } });
        assert.equal(response.status, 200);
        text = await response.text();
        if (/^temporal_\w+/m.test(text)) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      assert.match(text, /^temporal_\w+/m, `no Temporal SDK metrics in:\n${text.slice(0, 2000)}`);
      for (const name of ['purchase_outcomes_total', 'webhook_attempts_total', 'ledger_writes_total']) {
        assert.match(text, new RegExp(`# HELP ${name} `));
      }
      assert.doesNotMatch(text, /# HELP http_requests_total /, 'the worker answers no API requests');
      assert.match(text, /process_resident_memory_bytes/);
    } finally {
      await worker.stop();
    }
  });
});
