import assert from 'node:assert/strict';
import { startTestApi } from '../helpers/env';
import { call } from '../helpers/http';
import { freshInstance } from '../helpers/ledger';

describe('HTTP: /api/v1/users credits', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    // 200 parallel calls from one instance: above the default per-minute limit on purpose.
    api = await startTestApi({ WELCOME_CREDITS: 'article=2', RATE_LIMIT_PER_MINUTE: '100000' });
  });
  after(async () => api.stop());

  const user = { user_id: 42, user_email: 'wp@example.com' };

  async function grant(instance: string, credit_type: string, delta: number, user_id: string | number = 42) {
    const response = await call(api.url, 'POST', '/admin/v1/credits/adjust', {
      admin: true,
      body: {
        instance_id: instance,
        user_id,
        user_email: 'wp@example.com',
        credit_type,
        delta,
        reason: 'test',
      },
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
  }

  it('GET /users/credits: a new user has the welcome grant', async () => {
    const instance = freshInstance();
    const response = await call(
      api.url,
      'GET',
      '/api/v1/users/credits?user_id=42&user_email=wp@example.com',
      {
        instance,
      },
    );
    assert.equal(response.status, 200);
    const { last_updated: lastUpdated, ...rest } = response.body;
    assert.deepEqual(rest, {
      success: true,
      user_id: '42',
      user_email: 'wp@example.com',
      credits: { article_credits: 2, image_credits: 0, rewrite_credits: 0 },
    });
    assert.ok(!Number.isNaN(Date.parse(lastUpdated)));
  });

  it('needs a calling instance (401) and names every bad field (400)', async () => {
    const anonymous = await call(api.url, 'GET', '/api/v1/users/credits?user_id=1');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error, 'unauthorized');

    const bad = await call(api.url, 'POST', '/api/v1/users/deduct-credits', {
      instance: freshInstance(),
      body: { credit_type: 'video', amount: 0 },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.success, false);
    assert.equal(bad.body.error, 'invalid_request');
    assert.match(bad.body.message, /Missing required fields: user_id, user_email/);
    assert.match(bad.body.message, /credit_type/);
    assert.match(bad.body.message, /amount/);
  });

  it('POST /users/deduct-credits: deducts, then 402 with the credits when short', async () => {
    const instance = freshInstance();
    await grant(instance, 'image', 3);
    const spent = await call(api.url, 'POST', '/api/v1/users/deduct-credits', {
      instance,
      body: { ...user, credit_type: 'image', amount: 2 },
    });
    assert.equal(spent.status, 200);
    assert.equal(spent.body.success, true);
    assert.match(spent.body.transaction_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(spent.body.remaining_credits, {
      article_credits: 2,
      image_credits: 1,
      rewrite_credits: 0,
    });

    const short = await call(api.url, 'POST', '/api/v1/users/deduct-credits', {
      instance,
      body: { ...user, credit_type: 'image', amount: 2 },
    });
    assert.equal(short.status, 402);
    assert.equal(short.body.error, 'insufficient_credits');
    assert.deepEqual(short.body.remaining_credits, {
      article_credits: 2,
      image_credits: 1,
      rewrite_credits: 0,
    });
  });

  it('a 402 under an Idempotency-Key is replayed, even after a top-up (the key is spent)', async () => {
    const instance = freshInstance();
    const send = () =>
      call(api.url, 'POST', '/api/v1/users/deduct-credits', {
        instance,
        headers: { 'Idempotency-Key': 'short-1' },
        body: { ...user, credit_type: 'image', amount: 5 },
      });
    const refused = await send();
    assert.equal(refused.status, 402, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'insufficient_credits');
    await grant(instance, 'image', 10);
    const retried = await send();
    assert.equal(retried.status, 402, JSON.stringify(retried.body));
    assert.equal(retried.headers.get('Idempotent-Replayed'), 'true');
    assert.deepEqual(retried.body, refused.body);
    const balance = await call(api.url, 'GET', '/api/v1/users/credits?user_id=42', { instance });
    assert.equal(balance.body.credits.image_credits, 10);
  });

  it('honours Idempotency-Key: replay with the first answer, 409 for a different body', async () => {
    const instance = freshInstance();
    await grant(instance, 'rewrite', 5);
    const send = (amount: number, user_id: string | number = 42) =>
      call(api.url, 'POST', '/api/v1/users/deduct-credits', {
        instance,
        headers: { 'Idempotency-Key': 'order-77' },
        body: { ...user, user_id, credit_type: 'rewrite', amount },
      });
    const first = await send(2);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('Idempotent-Replayed'), null);
    const again = await send(2);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('Idempotent-Replayed'), 'true');
    assert.deepEqual(again.body, first.body);

    const otherAmount = await send(3);
    assert.equal(otherAmount.status, 409);
    assert.equal(otherAmount.body.error, 'idempotency_conflict');
    const otherUser = await send(2, 43);
    assert.equal(otherUser.status, 409);

    // Keys are the instance's own: another instance may use the same one.
    const elsewhere = freshInstance();
    await grant(elsewhere, 'rewrite', 5);
    const theirs = await call(api.url, 'POST', '/api/v1/users/deduct-credits', {
      instance: elsewhere,
      headers: { 'Idempotency-Key': 'order-77' },
      body: { ...user, credit_type: 'rewrite', amount: 2 },
    });
    assert.equal(theirs.status, 200);
    assert.notEqual(theirs.body.transaction_id, first.body.transaction_id);

    const balance = await call(api.url, 'GET', '/api/v1/users/credits?user_id=42', { instance });
    assert.equal(balance.body.credits.rewrite_credits, 3);
  });

  it('200 parallel HTTP deductions of 1 against 100 credits: 100 succeed, 100 are 402, balance 0', async () => {
    const instance = freshInstance('http-race');
    await grant(instance, 'article', 98); // + the 2 welcome credits = 100
    const responses = await Promise.all(
      Array.from({ length: 200 }, () =>
        call(api.url, 'POST', '/api/v1/users/deduct-credits', {
          instance,
          body: { ...user, credit_type: 'article', amount: 1 },
        }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    assert.equal(statuses.filter((status) => status === 200).length, 100);
    assert.equal(statuses.filter((status) => status === 402).length, 100);
    assert.equal(
      new Set(responses.filter((r) => r.status === 200).map((r) => r.body.transaction_id)).size,
      100,
    );
    const balance = await call(api.url, 'GET', '/api/v1/users/credits?user_id=42', { instance });
    assert.equal(balance.body.credits.article_credits, 0);
  });
});
