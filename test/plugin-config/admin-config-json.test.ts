import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { collectionNames } from '../../src/mongo/collections';
import { stack, startTestApi } from '../helpers/env';
import { adminToken } from '../helpers/http';
import { call } from '../helpers/plugin-client';

// Issue 10, finding 4, for PUT /admin/v1/config/:key: a value the store cannot hold answered 500
// (FerretDB refuses such documents). It is now 400 invalid_request naming the problem, and nothing
// is stored.

describe('admin config values are checked before they are stored', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.stop());

  const put = (key: string, body: unknown) =>
    call(api.url, 'PUT', `/admin/v1/config/${key}`, { token: adminToken, userAgent: 'ops', body });

  it('refuses keys with . or $, null bytes, nested arrays, deep or big values, and stores none of them', async () => {
    const key = `probe-${randomUUID().slice(0, 8)}`;
    const deep = `${'{"d":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const bad: Array<[string, unknown]> = [
      ['dotted key', { 'model.name': 'x' }],
      ['dollar key', { nested: { $gt: 1 } }],
      ['null byte in a key', { 'a\u0000b': 1 }],
      ['null byte in a value', { a: 'x\u0000y' }],
      ['nested arrays', { matrix: [[1, 2], [3]] }],
      ['too deep', deep],
      ['too big', { blob: 'x'.repeat(17 * 1024) }],
      ['not an object', [1, 2, 3]],
    ];
    for (const [what, value] of bad) {
      const refused = await put(key, value);
      assert.equal(
        refused.status,
        400,
        `${what}: ${refused.status} ${JSON.stringify(refused.body).slice(0, 300)}`,
      );
      assert.equal(refused.body.error, 'invalid_request', what);
      assert.ok(JSON.stringify(refused.body).length < 2_000, `${what}: the answer does not echo the value`);
    }
    const badKey = await put('Bad$Key', { a: 1 });
    assert.equal(badKey.status, 400, JSON.stringify(badKey.body));
    const { db } = await stack();
    assert.equal(await db.collection(collectionNames.pluginConfig).countDocuments({ key }), 0);

    const fine = await put(key, { model: 'gpt-4o', tags: ['a', 'b'], limits: { daily: 10 } });
    assert.equal(fine.status, 200, JSON.stringify(fine.body));
    assert.equal(await db.collection(collectionNames.pluginConfig).countDocuments({ key }), 1);
  });
});
