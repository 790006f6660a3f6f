import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { collectionNames } from '../../src/mongo/collections';
import { stack, startTestApi } from '../helpers/env';
import { call } from '../helpers/http';
import { freshInstance } from '../helpers/ledger';

describe('HTTP: /api/v1/analytics', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi({});
  });
  after(async () => api.stop());

  const event = (i: number, extra: Record<string, unknown> = {}) => ({
    user_id: 7,
    user_email: 'seven@example.com',
    credit_type: 'article',
    credits_used: 1,
    metadata: { model: 'gpt-4o', words: 800 + i },
    timestamp: new Date(Date.UTC(2025, 10, 6, 0, 0, i)).toISOString(),
    ...extra,
  });

  it('free-form metadata the store cannot hold is 400 naming the field, and a batch with one stores none', async () => {
    const instance = freshInstance();
    // Nested 5,000 deep: written as text (JSON.stringify itself would overflow the stack).
    const deep = `${'{"d":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const bad: Array<[string, unknown]> = [
      ['dotted key', { 'a.b': 1 }],
      ['dollar key', { $where: 'x' }],
      ['null byte in a key', { 'a\u0000b': 1 }],
      ['null byte in a value', { a: 'x\u0000y' }],
      ['nested arrays', { a: [[1, 2], [3]] }],
      ['too deep', deep],
      ['too big', { blob: 'x'.repeat(17 * 1024) }],
    ];
    const { db } = await stack();
    for (const [what, metadata] of bad) {
      const body =
        metadata === deep
          ? JSON.stringify({ events: [event(1), event(2, { metadata: '@@' })] }).replace('"@@"', () => deep)
          : { events: [event(1), event(2, { metadata })] };
      const refused = await call(api.url, 'POST', '/api/v1/analytics/usage', {
        instance,
        body,
      });
      assert.equal(
        refused.status,
        400,
        `${what}: ${refused.status} ${JSON.stringify(refused.body).slice(0, 300)}`,
      );
      assert.equal(refused.body.error, 'invalid_request');
      assert.match(JSON.stringify(refused.body), /metadata/, what);
    }
    const stored = await db
      .collection(collectionNames.generationEvents)
      .countDocuments({ instance_id: instance });
    assert.equal(stored, 0, 'no event of a refused batch is stored');
    // Ordinary nested metadata is fine.
    const fine = await call(api.url, 'POST', '/api/v1/analytics/usage', {
      instance,
      body: {
        events: [event(3, { metadata: { model: 'gpt-4o', tags: ['a', 'b'], usage: { in: 1, out: 2 } } })],
      },
    });
    assert.equal(fine.status, 200, JSON.stringify(fine.body));
  });

  it('stores each event of a resent batch once', async () => {
    const instance = freshInstance();
    const batch = [
      ...Array.from({ length: 5 }, (_, i) => event(i)),
      event(99, { event_id: `evt-${randomUUID()}` }),
      event(100, { timestamp: undefined, metadata: undefined }),
    ];
    const first = await call(api.url, 'POST', '/api/v1/analytics/usage', {
      instance,
      body: { events: batch },
    });
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { success: true, accepted: 7, transactions_accepted: 0 });

    const resent = await call(api.url, 'POST', '/api/v1/analytics/usage', {
      instance,
      body: { events: [...batch, event(5)] },
    });
    assert.deepEqual(resent.body, { success: true, accepted: 1, transactions_accepted: 0 });

    // Another instance's identical events are its own.
    const other = await call(api.url, 'POST', '/api/v1/analytics/usage', {
      instance: freshInstance(),
      body: { events: batch.slice(0, 2) },
    });
    assert.equal(other.body.accepted, 2);

    const { db } = await stack();
    assert.equal(
      await db.collection(collectionNames.generationEvents).countDocuments({ instance_id: instance }),
      8,
    );
  });

  it('POST /analytics/generation stores one event (200); batches over 1000 are refused', async () => {
    const instance = freshInstance();
    const single = await call(api.url, 'POST', '/api/v1/analytics/generation', { instance, body: event(1) });
    assert.equal(single.status, 200);
    assert.deepEqual(single.body, { success: true, accepted: 1 });

    const tooMany = await call(api.url, 'POST', '/api/v1/analytics/usage', {
      instance,
      body: { events: Array.from({ length: 1001 }, (_, i) => event(i)) },
    });
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body.message, /at most 1000 events/);

    const full = await call(api.url, 'POST', '/api/v1/analytics/usage', {
      instance,
      body: { events: Array.from({ length: 1000 }, (_, i) => event(i + 2)) },
    });
    assert.equal(full.body.accepted, 1000);

    const anonymous = await call(api.url, 'POST', '/api/v1/analytics/usage', { body: { events: [] } });
    assert.equal(anonymous.status, 401);
  });
});
