import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { createLedger } from '../../src/ledger';
import { type PurchaseStatus, type PurchaseView, purchaseStatuses } from '../../src/purchases/model';
import { insertPurchase, saveOutcome } from '../../src/purchases/store';
import { recordAttempt } from '../../src/webhooks/attempts';
import { type DeliveryStatus, deliveryStatuses, webhookDeliveries } from '../../src/webhooks/deliveries';
import { stack, startTestApi } from '../helpers/env';
import { asPlugin, type Credentials, registerPlugin } from '../helpers/plugin-client';
import { adminCall, adminGet } from './helpers';

// Issue 12: GET /admin/v1/stats on a database of its own, seeded through the real API (instances,
// generations, an adjustment, a deduction, a disable and a delete), the ledger (entries on chosen
// days, through its own append path), the purchase record's writers (insertPurchase, saveOutcome)
// and the webhook record writers, then compared figure by figure with what was seeded.

const zeros = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;

describe('operators: stats (issue 12)', () => {
  const name = `rakubun_test_stats_${randomUUID().slice(0, 8)}`;
  let api: Awaited<ReturnType<typeof startTestApi>>;
  let db: Db;
  let a: Credentials;
  let b: Credentials;
  let c: Credentials;
  const now = new Date();

  before(async () => {
    api = await startTestApi({ MONGODB_URL: process.env.MONGODB_URL!, MONGODB_DATABASE: name });
    db = (await stack()).mongoClient.db(name);
    [a, b, c] = [await registerPlugin(api.url), await registerPlugin(api.url), await registerPlugin(api.url)];

    // Generations, as the plugin reports them (3 in the range, 1 before it).
    for (const [timestamp, content_type, prompt] of [
      ['2025-03-01T10:05:00Z', 'article', 'first'],
      ['2025-03-01 20:05:00', 'article', 'second'], // site time, read in UTC (no timezone given)
      ['2025-03-02T10:05:00+09:00', 'image', 'third'], // 01:05 UTC on 2025-03-02
      ['2025-02-20T10:00:00Z', 'article', 'before the range'],
    ]) {
      const sent = await asPlugin(api.url, a)('POST', '/api/v1/analytics/generation', {
        body: { user_id: 1, user_email: 'one@example.jp', content_type, prompt, timestamp },
      });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
    }

    // Ledger entries on chosen days, through the ledger's own writes.
    let clock = now;
    const ledger = createLedger({ db, creditTypes: ['article', 'image', 'rewrite'], now: () => clock });
    const at = (iso: string) => {
      clock = new Date(iso);
    };
    const user = (instance: Credentials, user_id: number) => ({
      instance_id: instance.instance_id,
      user_id,
      user_email: `user${user_id}@example.jp`,
    });
    at('2025-03-01T10:00:00Z');
    await ledger.grant({ ...user(a, 1), credit_type: 'article', amount: 10 });
    await ledger.grant({ ...user(a, 1), credit_type: 'image', amount: 5 });
    at('2025-03-01T11:00:00Z');
    await ledger.deduct({ ...user(a, 1), credit_type: 'article', amount: 3 });
    at('2025-03-02T09:00:00Z');
    await ledger.deduct({ ...user(a, 1), credit_type: 'article', amount: 2 });
    at('2025-03-02T10:00:00Z');
    await ledger.deduct({ ...user(a, 1), credit_type: 'image', amount: 4 });
    at('2025-03-02T12:00:00Z');
    await ledger.grant({ ...user(a, 2), credit_type: 'article', amount: 5 });
    at('2025-03-02T23:59:59.999Z');
    await ledger.deduct({ ...user(a, 2), credit_type: 'article', amount: 1 });
    at('2025-03-01T08:00:00Z');
    await ledger.grant({ ...user(b, 3), credit_type: 'rewrite', amount: 100 });
    at('2025-03-01T08:30:00Z');
    await ledger.deduct({ ...user(b, 3), credit_type: 'rewrite', amount: 50 });
    at('2025-02-20T10:00:00Z'); // before the range
    await ledger.grant({ ...user(a, 4), credit_type: 'article', amount: 1 });
    await ledger.deduct({ ...user(a, 4), credit_type: 'article', amount: 1 });
    at('2025-03-03T00:00:00Z'); // the range's end is exclusive
    await ledger.deduct({ ...user(a, 1), credit_type: 'article', amount: 1 });

    // Purchases: the API's record of the terms, then the workflow's saved outcome.
    const purchase = async (
      instance: Credentials,
      createdAt: string,
      price: { amount: number; currency: string },
      outcome: { status: PurchaseStatus; fulfilledAfterMs?: number } & Partial<PurchaseView>,
    ) => {
      const purchase_id = `pur_${randomUUID().replaceAll('-', '')}`;
      const terms = {
        purchase_id,
        instance_id: instance.instance_id,
        user_id: '1',
        user_email: 'one@example.jp',
        package_id: 'article_starter',
        credit_type: 'article',
        credits: 10,
        ...price,
        flow: 'checkout' as const,
        created_at: createdAt,
        pay_by: createdAt,
      };
      assert.ok(await insertPurchase(db, { ...terms, status: 'pending', updated_at: new Date(createdAt) }));
      if (outcome.status === 'pending') return;
      const { fulfilledAfterMs, ...view } = outcome;
      await saveOutcome(db, {
        purchase_id,
        credit_type: 'article',
        credits: 10,
        ...price,
        created_at: createdAt,
        ...(fulfilledAfterMs !== undefined
          ? { fulfilled_at: new Date(Date.parse(createdAt) + fulfilledAfterMs).toISOString() }
          : {}),
        ...view,
      });
    };
    const jpy = (amount: number) => ({ amount, currency: 'JPY' });
    await purchase(a, '2025-03-01T10:00:00.000Z', jpy(750), { status: 'fulfilled', fulfilledAfterMs: 2000 });
    await purchase(a, '2025-03-01T12:00:00.000Z', jpy(300), {
      status: 'refunded',
      fulfilledAfterMs: 5000,
      refunded_amount: 300,
    });
    await purchase(
      b,
      '2025-03-02T09:00:00.000Z',
      { amount: 999, currency: 'USD' },
      {
        status: 'disputed',
        fulfilledAfterMs: 1000,
        dispute: { id: 'dp_1', status: 'lost', credits_held: 10 },
      },
    );
    await purchase(a, '2025-03-02T10:00:00.000Z', jpy(750), { status: 'expired' });
    await purchase(a, '2025-03-02T11:00:00.000Z', jpy(750), { status: 'pending' });
    await purchase(a, '2025-03-02T11:30:00.000Z', jpy(9800), {
      status: 'fulfilled',
      fulfilledAfterMs: 10_000,
      refunded_amount: 4900,
    });
    await purchase(a, '2025-02-20T10:00:00.000Z', jpy(750), {
      status: 'fulfilled',
      fulfilledAfterMs: 99_000,
    });

    // Webhook deliveries and attempts (the drain's records), in the range and one of each before it.
    const deliveries: Array<[DeliveryStatus, string]> = [
      ['delivered', '2025-03-01T01:00:00Z'],
      ['delivered', '2025-03-01T02:00:00Z'],
      ['delivered', '2025-03-02T03:00:00Z'],
      ['dead_lettered', '2025-03-02T04:00:00Z'],
      ['gone', '2025-03-02T05:00:00Z'],
      ['pending', '2025-03-02T06:00:00Z'],
      ['superseded', '2025-03-02T07:00:00Z'],
      ['failed', '2025-02-28T23:59:59Z'],
    ];
    for (const [i, [status, createdAt]] of deliveries.entries()) {
      const delivery_id = `evt_stats_${i}:default`;
      await webhookDeliveries(db).insertOne({
        _id: delivery_id,
        delivery_id,
        event_id: `evt_stats_${i}`,
        endpoint_id: 'default',
        instance_id: a.instance_id,
        event_type: 'credits_updated',
        status,
        attempts: 1,
        created_at: new Date(createdAt),
        updated_at: new Date(createdAt),
      });
    }
    const attempts: Array<['delivered' | 'failed' | 'gone', string]> = [
      ['delivered', '2025-03-01T01:00:01Z'],
      ['delivered', '2025-03-01T02:00:01Z'],
      ['delivered', '2025-03-02T03:00:01Z'],
      ['failed', '2025-03-02T04:00:01Z'],
      ['failed', '2025-03-02T04:00:11Z'],
      ['failed', '2025-03-02T04:01:00Z'],
      ['failed', '2025-03-02T06:00:01Z'],
      ['gone', '2025-03-02T05:00:01Z'],
      ['failed', '2025-02-28T23:59:59Z'],
    ];
    for (const [i, [outcome, startedAt]] of attempts.entries()) {
      await recordAttempt(db, {
        attempt_key: `run-stats:${i}`,
        delivery_id: `evt_stats_${i}:default`,
        event_id: `evt_stats_${i}`,
        event_type: 'credits_updated',
        endpoint_id: 'default',
        instance_id: a.instance_id,
        attempt: 1,
        url: 'https://example.com/wp-admin/admin-ajax.php?action=rakubun_webhook',
        started_at: new Date(startedAt),
        latency_ms: 12,
        outcome,
      });
    }

    // Today, through the API: an adjustment on C (a new user), a deduction on A, then C is disabled
    // and B deleted.
    const adjusted = await adminCall(api.url, 'POST', '/admin/v1/credits/adjust', {
      instance_id: c.instance_id,
      user_id: 5,
      user_email: 'five@example.jp',
      credit_type: 'image',
      delta: 7,
      reason: 'stats test',
    });
    assert.equal(adjusted.status, 200, JSON.stringify(adjusted.body));
    const spent = await asPlugin(api.url, a)('POST', '/api/v1/users/deduct-credits', {
      body: { user_id: 1, user_email: 'one@example.jp', credit_type: 'article', amount: 1 },
    });
    assert.equal(spent.status, 200, JSON.stringify(spent.body));
    const disabled = await adminCall(api.url, 'POST', `/admin/v1/instances/${c.instance_id}/disable`, {
      reason: 'stats test',
    });
    assert.equal(disabled.status, 200);
    assert.equal((await adminCall(api.url, 'DELETE', `/admin/v1/instances/${b.instance_id}`)).status, 200);
  });

  after(async () => {
    await api.stop();
    await db.dropDatabase();
  });

  it('counts exactly what was seeded in the range (since inclusive, until exclusive, UTC days)', async () => {
    const stats = await adminGet(
      api.url,
      '/admin/v1/stats?since=2025-03-01&until=2025-03-03',
      '/admin/v1/stats',
    );
    assert.equal(stats.since, '2025-03-01T00:00:00.000Z');
    assert.equal(stats.until, '2025-03-03T00:00:00.000Z');
    assert.deepEqual(stats.instances, {
      total: 3,
      active: 1,
      pending: 0,
      disabled: 1,
      deleted: 1,
      active_in_range: 2,
    });
    assert.deepEqual(stats.users, { total: 5, new_in_range: 3, active_in_range: 3 });
    assert.deepEqual(stats.usage, [
      { day: '2025-03-01', credit_type: 'article', generations: 2, credits_used: 3 },
      { day: '2025-03-01', credit_type: 'rewrite', generations: 0, credits_used: 50 },
      { day: '2025-03-02', credit_type: 'article', generations: 0, credits_used: 3 },
      { day: '2025-03-02', credit_type: 'image', generations: 1, credits_used: 4 },
    ]);
    const row = (day: string, currency: string, figures: number[]) => {
      const [purchases, paid, revenue, refunded, lost_to_disputes, net_revenue] = figures;
      return { day, currency, purchases, paid, revenue, refunded, lost_to_disputes, net_revenue };
    };
    assert.deepEqual(stats.purchases.by_day, [
      row('2025-03-01', 'JPY', [2, 2, 1050, 300, 0, 750]),
      row('2025-03-02', 'JPY', [3, 1, 9800, 4900, 0, 4900]),
      row('2025-03-02', 'USD', [1, 1, 999, 0, 999, 0]),
    ]);
    assert.deepEqual(stats.purchases.by_outcome, {
      ...zeros(purchaseStatuses),
      pending: 1,
      fulfilled: 2,
      expired: 1,
      refunded: 1,
      disputed: 1,
    });
    // Latencies 1000, 2000, 5000, 10000 ms: nearest rank p50 is the 2nd, p99 the 4th.
    assert.deepEqual(stats.purchases.fulfilment_latency_ms, { count: 4, p50: 2000, p99: 10_000 });
    assert.deepEqual(stats.webhooks, {
      deliveries: {
        ...zeros(deliveryStatuses),
        delivered: 3,
        dead_lettered: 1,
        gone: 1,
        pending: 1,
        superseded: 1,
      },
      delivery_success_rate: 3 / 5,
      attempts: { total: 8, delivered: 3, failed: 4, gone: 1, refused: 0 },
      attempt_success_rate: 3 / 8,
    });
  });

  it("counts today's API activity in a range around now, and nothing of it in the seeded days", async () => {
    const since = new Date(now.getTime() - 3600_000).toISOString();
    const until = new Date(Date.now() + 60_000).toISOString();
    const stats = await adminGet(
      api.url,
      `/admin/v1/stats?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`,
      '/admin/v1/stats',
    );
    assert.deepEqual(stats.users, { total: 5, new_in_range: 1, active_in_range: 2 });
    assert.equal(stats.instances.active_in_range, 2);
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual(
      stats.usage.map((usage: { credits_used: number }) => usage.credits_used),
      [1],
    );
    assert.ok([today, now.toISOString().slice(0, 10)].includes(stats.usage[0].day));
    assert.deepEqual(stats.purchases.by_day, []);
    assert.deepEqual(stats.purchases.fulfilment_latency_ms, { count: 0, p50: null, p99: null });
    assert.equal(stats.webhooks.attempts.delivered, 0);

    // Nothing of the seeded days falls in a range that ends where they begin...
    const before = await adminGet(
      api.url,
      '/admin/v1/stats?since=2025-02-21&until=2025-03-01',
      '/admin/v1/stats',
    );
    assert.deepEqual(before.usage, []);
    assert.deepEqual(before.purchases.by_day, []);
    // ...but for the delivery and the attempt of 2025-02-28, which failed.
    assert.deepEqual(before.webhooks.attempts, { total: 1, delivered: 0, failed: 1, gone: 0, refused: 0 });
    assert.equal(before.webhooks.deliveries.failed, 1);
    assert.equal(before.webhooks.delivery_success_rate, 0);
    assert.equal(before.webhooks.attempt_success_rate, 0);
  });

  it('defaults to the last 30 days', async () => {
    const stats = await adminGet(api.url, '/admin/v1/stats', '/admin/v1/stats');
    const span = Date.parse(stats.until) - Date.parse(stats.since);
    assert.equal(span, 30 * 86_400_000);
    assert.ok(Math.abs(Date.parse(stats.until) - Date.now()) < 60_000);
    assert.equal(stats.users.new_in_range, 1, 'only the user made today; the seeded ones are older');
  });
});
