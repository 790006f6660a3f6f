import assert from 'node:assert/strict';
import { webhookAttempts } from '../../src/webhooks/attempts';
import { findDeliveries } from '../../src/webhooks/deliveries';
import { publishEvent } from '../../src/webhooks/publish';
import { asPlugin, call, registerPlugin } from '../helpers/plugin-client';
import { adminToken, creditsData, type Harness, quickSchedule, webhookHarness } from './harness';
import { verifyRakubunSignature, verifyStandardWebhook } from './independent-verifier';
import { type Receiver, startReceiver } from './receiver';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('webhook delivery', function () {
  this.timeout(90_000);
  let h: Harness;
  const receivers: Receiver[] = [];
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const started = await startReceiver(...args);
    receivers.push(started);
    return started;
  };
  before(async () => {
    h = await webhookHarness();
  });
  afterEach(async () => {
    for (const started of receivers.splice(0)) await started.close();
  });
  after(() => h.stop());

  it('delivers once on 200, signed as the contract says', async () => {
    const site = await receiver();
    const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
    const data = {
      user_id: 42,
      user_email: 'u@example.jp',
      credits: { article_credits: 5 },
      delta: 5,
      reason: 'purchase',
      ledger_seq: 1,
    };
    const published = await publishEvent(h.publisher, {
      instance_id: plugin.instance_id,
      event: 'credits_updated',
      data,
    });
    const [webhook] = await site.waitFor(1);
    assert.equal(webhook!.url, '/wp-admin/admin-ajax.php?action=rakubun_webhook');
    assert.deepEqual(Object.keys(webhook!.json), [
      'id',
      'event',
      'timestamp',
      'created_at',
      'instance_id',
      'data',
    ]);
    assert.equal(webhook!.json.timestamp, webhook!.json.created_at);
    assert.equal(webhook!.json.id, published.event_id);
    assert.equal(webhook!.json.event, 'credits_updated');
    assert.equal(webhook!.json.instance_id, plugin.instance_id);
    assert.deepEqual(webhook!.json.data, data);
    assert.equal(webhook!.headers['x-instance-id'], plugin.instance_id);
    assert.equal(webhook!.headers['x-rakubun-event'], 'credits_updated');
    assert.equal(webhook!.headers['webhook-id'], published.event_id);
    assert.ok(
      verifyRakubunSignature(
        plugin.webhook_secret,
        webhook!.body,
        webhook!.headers['x-rakubun-signature'] as string,
      ),
    );
    assert.ok(verifyStandardWebhook(plugin.webhook_secret, webhook!.body, webhook!.headers));

    const delivery = await h.waitForDelivery(
      `${published.event_id}:default`,
      (d) => d.status === 'delivered',
    );
    assert.equal(delivery.attempts, 1);
    await sleep(500);
    assert.equal(site.received.length, 1, 'exactly once');
    const attempts = await webhookAttempts(h.db).find({ delivery_id: delivery.delivery_id }).toArray();
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0]!.status_code, 200);
    // The receiver is on loopback: its answer is not shown in the attempt log (see loggableBody).
    assert.equal(attempts[0]!.response_body, undefined);
    assert.ok(attempts[0]!.latency_ms >= 0);
  });

  it('a receiver failing 3 times gets it on the 4th try, with the same webhook-id and body', async () => {
    const site = await receiver((_webhook, index) =>
      index < 3 ? { status: 500, body: 'x'.repeat(5000) } : { status: 200, body: 'thanks' },
    );
    const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
    const published = await publishEvent(h.publisher, {
      instance_id: plugin.instance_id,
      event: 'config_updated',
      data: { key: 'openai' },
      schedule: quickSchedule(200, 60_000),
    });
    const webhooks = await site.waitFor(4, 30_000);
    assert.deepEqual(new Set(webhooks.map((w) => w.headers['webhook-id'])), new Set([published.event_id]));
    assert.equal(new Set(webhooks.map((w) => w.body)).size, 1, 'the same bytes every time');
    const delivery = await h.waitForDelivery(
      `${published.event_id}:default`,
      (d) => d.status === 'delivered',
    );
    assert.equal(delivery.attempts, 4);
    const attempts = await webhookAttempts(h.db)
      .find({ delivery_id: delivery.delivery_id })
      .sort({ attempt: 1 })
      .toArray();
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.status_code, a.outcome]),
      [
        [1, 500, 'failed'],
        [2, 500, 'failed'],
        [3, 500, 'failed'],
        [4, 200, 'delivered'],
      ],
    );
    assert.equal(attempts[0]!.response_body, undefined, 'a private address: no answer shown');
  });

  it('ends dead-lettered past its retry window; an operator replay then delivers it', async () => {
    const site = await receiver(() => ({ status: 503 }));
    const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
    const published = await publishEvent(h.publisher, {
      instance_id: plugin.instance_id,
      event: 'package_updated',
      data: { package_id: 'pkg_article_10' },
      schedule: quickSchedule(200, 1_500),
    });
    const deliveryId = `${published.event_id}:default`;
    const dead = await h.waitForDelivery(deliveryId, (d) => d.status === 'dead_lettered');
    assert.ok(dead.attempts >= 2, `retried within the window (${dead.attempts} attempts)`);

    const admin = { token: adminToken(), userAgent: 'ops' };
    const listed = await call(
      h.apiUrl,
      'GET',
      `/admin/v1/webhooks/dead-letters?instance_id=${plugin.instance_id}`,
      admin,
    );
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.dead_letters.map((d: { delivery_id: string }) => d.delivery_id),
      [deliveryId],
    );
    const dry = await call(h.apiUrl, 'POST', '/admin/v1/webhooks/replay', {
      ...admin,
      body: { event_ids: [published.event_id], dry_run: true },
    });
    assert.equal(dry.status, 200);
    assert.equal(dry.body.deliveries[0].replay, 'would_send');
    await sleep(300);
    const before = site.received.length;
    assert.equal(before, dead.attempts, 'a dry run sends nothing');

    site.setResponder(() => ({ status: 200 }));
    const replayed = await call(h.apiUrl, 'POST', '/admin/v1/webhooks/replay', {
      ...admin,
      body: { event_ids: [published.event_id] },
    });
    assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
    assert.equal(replayed.body.found, 1);
    assert.equal(replayed.body.deliveries[0].replay, 'started');
    await site.waitFor(before + 1);
    assert.equal(site.received.at(-1)!.headers['webhook-id'], published.event_id);
    await h.waitForDelivery(deliveryId, (d) => d.status === 'delivered');
  });

  it('honours Retry-After on 429 before trying again', async () => {
    const site = await receiver((_webhook, index) =>
      index === 0 ? { status: 429, headers: { 'Retry-After': '2' } } : { status: 200 },
    );
    const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
    const published = await publishEvent(h.publisher, {
      instance_id: plugin.instance_id,
      event: 'config_updated',
      data: { key: 'openai' },
      schedule: quickSchedule(100, 60_000),
    });
    const [first, second] = await site.waitFor(2, 20_000);
    assert.ok(second!.at - first!.at >= 1_900, `waited ${second!.at - first!.at} ms`);
    await h.waitForDelivery(`${published.event_id}:default`, (d) => d.status === 'delivered');
  });

  it('stops at once on 410 Gone', async () => {
    const site = await receiver(() => ({ status: 410 }));
    const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
    const published = await publishEvent(h.publisher, {
      instance_id: plugin.instance_id,
      event: 'config_updated',
      data: { key: 'openai' },
      schedule: quickSchedule(100, 30_000),
    });
    await h.waitForDelivery(`${published.event_id}:default`, (d) => d.status === 'gone');
    await sleep(1_000);
    assert.equal(site.received.length, 1);
  });

  it('a receiver that never answers does not delay another endpoint', async () => {
    const slow = await receiver(() => 'hold');
    const fast = await receiver();
    const plugin = await registerPlugin(h.apiUrl, { site_url: slow.url });
    const created = await asPlugin(h.apiUrl, plugin)('POST', '/api/v1/webhooks', {
      body: { url: `${fast.url}/hooks`, events: ['credits_updated'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const started = Date.now();
    for (let seq = 1; seq <= 10; seq += 1) {
      await publishEvent(h.publisher, {
        instance_id: plugin.instance_id,
        event: 'credits_updated',
        data: creditsData({ user_id: `u${seq}`, ledger_seq: seq }),
      });
    }
    await fast.waitFor(10, 10_000);
    assert.ok(Date.now() - started < 10_000);
    assert.ok(slow.received.length >= 1, 'the slow site was tried');
    assert.ok(
      slow.maxInFlight <= h.config.WEBHOOK_MAX_CONCURRENCY_PER_HOST,
      `at most ${h.config.WEBHOOK_MAX_CONCURRENCY_PER_HOST} requests wait on one host (saw ${slow.maxInFlight})`,
    );
  });

  it('a newer credits_updated for the same user supersedes an older undelivered one', async () => {
    const site = await receiver(() => ({ status: 500 }));
    const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
    const credits = (seq: number) =>
      publishEvent(h.publisher, {
        instance_id: plugin.instance_id,
        event: 'credits_updated',
        data: creditsData({ user_id: 7, ledger_seq: seq, credits: { article_credits: seq } }),
        schedule: quickSchedule(300, 60_000),
      });
    const older = await credits(1);
    await site.waitFor(1);
    const newer = await credits(2);
    site.setResponder(() => ({ status: 200 }));
    const healedAt = Date.now();
    await h.waitForDelivery(`${newer.event_id}:default`, (d) => d.status === 'delivered');
    const ended = await h.waitForDelivery(`${older.event_id}:default`, (d) => d.status !== 'pending');
    assert.equal(ended.status, 'superseded');
    const staleSends = site.received.filter((w) => w.json.data.ledger_seq === 1 && w.at > healedAt + 50);
    assert.equal(staleSends.length, 0, 'the older one is not sent once the newer one exists');
  });

  it('refuses SSRF targets when private networks are not allowed', async () => {
    const strict = await webhookHarness({ config: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' } });
    try {
      const site = await receiver();
      // Registered through the lenient API: the strict worker still checks every attempt after DNS.
      const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
      const published = await publishEvent(strict.publisher, {
        instance_id: plugin.instance_id,
        event: 'config_updated',
        data: { key: 'openai' },
        schedule: quickSchedule(100, 500),
      });
      const dead = await strict.waitForDelivery(
        `${published.event_id}:default`,
        (d) => d.status === 'dead_lettered',
      );
      assert.match(dead.last_error ?? '', /refused: 127\.0\.0\.1 resolves to a loopback address/);
      assert.equal(site.received.length, 0);
      const refusedAttempts = await findDeliveries(strict.db, { event_ids: [published.event_id], limit: 5 });
      assert.equal(refusedAttempts.length, 1);
    } finally {
      await strict.stop();
    }
  });
});
