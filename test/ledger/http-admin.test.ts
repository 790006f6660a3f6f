import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { packageStore } from '../../src/packages/store';
import { stack, startTestApi } from '../helpers/env';
import { call } from '../helpers/http';
import { freshInstance } from '../helpers/ledger';
import { asPlugin, registerPlugin } from '../helpers/plugin-client';

describe('HTTP: /admin/v1 credits and packages', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi();
  });
  after(async () => api.stop());

  const adjustment = (instance_id: string, delta: number, extra: Record<string, unknown> = {}) => ({
    instance_id,
    user_id: 5,
    user_email: 'five@example.com',
    credit_type: 'article',
    delta,
    reason: 'support ticket 12',
    ...extra,
  });

  it('refuses a missing or wrong admin token with 401', async () => {
    const missing = await call(api.url, 'GET', '/admin/v1/packages');
    assert.equal(missing.status, 401);
    assert.deepEqual(Object.keys(missing.body).sort(), ['error', 'message', 'success']);
    const wrong = await call(api.url, 'POST', '/admin/v1/credits/adjust', {
      headers: { Authorization: 'Bearer not-the-token-not-the-token-not-the-token' },
      body: adjustment(freshInstance(), 5),
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'unauthorized');
  });

  it('refuses amounts past the per-entry bound (1,000,000,000), so no balance nears the safe-integer limit', async () => {
    const instance = freshInstance();
    for (const delta of [Number.MAX_SAFE_INTEGER, 1_000_000_001, -1_000_000_001]) {
      const refused = await call(api.url, 'POST', '/admin/v1/credits/adjust', {
        admin: true,
        body: adjustment(instance, delta),
      });
      assert.equal(refused.status, 400, `${delta}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error, 'invalid_request');
      assert.match(JSON.stringify(refused.body), /delta/);
    }
    const largest = await call(api.url, 'POST', '/admin/v1/credits/adjust', {
      admin: true,
      body: adjustment(instance, 1_000_000_000),
    });
    assert.equal(largest.status, 200, JSON.stringify(largest.body));
    assert.equal(largest.body.credits.article_credits, 1_000_000_000, 'nothing refused was applied');
  });

  it("an instance named 'admin' does not share the operators' Idempotency-Keys", async () => {
    const { db } = await stack();
    await db.collection('instances').deleteOne({ instance_id: 'admin' }); // from an earlier run
    const admin = await registerPlugin(api.url, { instance_id: 'admin' });
    const key = `shared-${randomUUID()}`;
    const spent = await asPlugin(api.url, admin)('POST', '/api/v1/users/deduct-credits', {
      headers: { 'Idempotency-Key': key },
      body: { user_id: 1, user_email: 'one@example.jp', credit_type: 'article', amount: 1 },
    });
    // Refused for want of credits: a refusal is kept under its key too.
    assert.equal(spent.status, 402, JSON.stringify(spent.body));
    const operator = await call(api.url, 'POST', '/admin/v1/credits/adjust', {
      admin: true,
      headers: { 'Idempotency-Key': key },
      body: adjustment(freshInstance(), 7),
    });
    assert.equal(operator.status, 200, JSON.stringify(operator.body));
    assert.equal(operator.headers.get('Idempotent-Replayed'), null);
    assert.equal(operator.body.credits.article_credits, 7);
  });

  it('adjusts up and down, never below zero, and replays an Idempotency-Key', async () => {
    const instance = freshInstance();
    const up = await call(api.url, 'POST', '/admin/v1/credits/adjust', {
      admin: true,
      headers: { 'Idempotency-Key': `ticket-${instance}` },
      body: adjustment(instance, 5),
    });
    assert.equal(up.status, 200);
    assert.deepEqual(up.body.credits, { article_credits: 5, image_credits: 0, rewrite_credits: 0 });
    const replay = await call(api.url, 'POST', '/admin/v1/credits/adjust', {
      admin: true,
      headers: { 'Idempotency-Key': `ticket-${instance}` },
      body: adjustment(instance, 5),
    });
    assert.equal(replay.headers.get('Idempotent-Replayed'), 'true');
    assert.equal(replay.body.transaction_id, up.body.transaction_id);

    const down = await call(api.url, 'POST', '/admin/v1/credits/adjust', {
      admin: true,
      body: adjustment(instance, -3),
    });
    assert.deepEqual(down.body.credits, { article_credits: 2, image_credits: 0, rewrite_credits: 0 });
    const tooFar = await call(api.url, 'POST', '/admin/v1/credits/adjust', {
      admin: true,
      body: adjustment(instance, -3),
    });
    assert.equal(tooFar.status, 402);
    assert.equal(tooFar.body.error, 'insufficient_credits');
    assert.deepEqual(tooFar.body.remaining_credits, {
      article_credits: 2,
      image_credits: 0,
      rewrite_credits: 0,
    });
  });

  it('validates adjustments: non-zero delta, expiry only on grants and in the future', async () => {
    const instance = freshInstance();
    for (const body of [
      adjustment(instance, 0),
      adjustment(instance, -1, { expires_at: new Date(Date.now() + 60_000).toISOString() }),
      adjustment(instance, 1, { expires_at: new Date(Date.now() - 60_000).toISOString() }),
      adjustment(instance, 1.5),
    ]) {
      const response = await call(api.url, 'POST', '/admin/v1/credits/adjust', { admin: true, body });
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(response.body.error, 'invalid_request');
    }
  });

  it('lists, creates and edits packages; plugins see active ones in the contract shape', async () => {
    const id = `pkg_test_${randomUUID().slice(0, 8)}`;
    const created = await call(api.url, 'POST', '/admin/v1/packages', {
      admin: true,
      body: {
        id,
        name: 'Test pack',
        credit_type: 'image',
        credits: 20,
        price: { amount: 1500, currency: 'jpy' },
      },
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.package, {
      id,
      name: 'Test pack',
      credit_type: 'image',
      credits: 20,
      bonus_credits: 0,
      price: { amount: 1500, currency: 'JPY' },
      active: true,
      stripe_price_id: null,
    });
    const duplicate = await call(api.url, 'POST', '/admin/v1/packages', {
      admin: true,
      body: { ...created.body.package },
    });
    assert.equal(duplicate.status, 409);

    const edited = await call(api.url, 'PUT', `/admin/v1/packages/${id}`, {
      admin: true,
      body: { bonus_credits: 2, stripe_price_id: 'price_123' },
    });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.package.bonus_credits, 2);
    assert.equal(edited.body.package.credits, 20);
    assert.equal(edited.body.package.stripe_price_id, 'price_123');
    const missing = await call(api.url, 'PUT', '/admin/v1/packages/pkg_nope', {
      admin: true,
      body: { active: false },
    });
    assert.equal(missing.status, 404);

    const publicList = await call(api.url, 'GET', '/api/v1/packages');
    assert.equal(publicList.status, 200);
    const mine = publicList.body.packages.packages.find((pkg: { id: string }) => pkg.id === id);
    assert.deepEqual(Object.keys(mine).sort(), [
      'active',
      'bonus_credits',
      'credit_type',
      'credits',
      'currency',
      'id',
      'name',
      'package_id',
      'price',
      'total_credits',
    ]);
    const article10 = publicList.body.packages.articles.find(
      (pkg: { id: string }) => pkg.id === 'pkg_article_10',
    );
    assert.equal(article10.price, 750);
    assert.equal(article10.currency, 'JPY');
    for (const type of ['article', 'image', 'rewrite']) {
      for (const currency of ['JPY', 'USD']) {
        assert.ok(
          publicList.body.packages[`${type}s`].some(
            (pkg: { credit_type: string; currency: string }) =>
              pkg.credit_type === type && pkg.currency === currency,
          ),
          `${type} in ${currency}`,
        );
      }
    }

    await call(api.url, 'PUT', `/admin/v1/packages/${id}`, { admin: true, body: { active: false } });
    const afterDisable = await call(api.url, 'GET', '/api/v1/packages');
    assert.ok(!afterDisable.body.packages.packages.some((pkg: { id: string }) => pkg.id === id));
    const adminList = await call(api.url, 'GET', '/admin/v1/packages', { admin: true });
    assert.equal(adminList.body.packages.find((pkg: { id: string }) => pkg.id === id).active, false);
  });

  it('seeding again keeps an operator edit of a default package', async () => {
    const edited = await call(api.url, 'PUT', '/admin/v1/packages/pkg_rewrite_50', {
      admin: true,
      body: { name: 'Rewrite 50 (autumn sale)' },
    });
    assert.equal(edited.status, 200);
    const { db, config } = await stack();
    await packageStore(db).seed(config.CREDIT_TYPES);
    const after = await call(api.url, 'GET', '/admin/v1/packages', { admin: true });
    const pkg = after.body.packages.find((p: { id: string }) => p.id === 'pkg_rewrite_50');
    assert.equal(pkg.name, 'Rewrite 50 (autumn sale)');
    assert.equal(after.body.packages.filter((p: { id: string }) => p.id === 'pkg_rewrite_50').length, 1);
  });
});
