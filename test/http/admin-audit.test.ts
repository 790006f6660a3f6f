import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { collectionNames } from '../../src/mongo/collections';
import { stack, startTestApi } from '../helpers/env';
import { adminToken } from '../helpers/http';
import { freshInstance } from '../helpers/ledger';
import { call, registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';

// Named operator tokens (ADMIN_API_TOKENS) and the admin_audit trail: every admin write records
// its operator and request id, adjustments put them on the ledger entry, GET /admin/v1/audit pages.

const alice = `alice-token-${randomUUID()}`;
const bob = `bob-token-${randomUUID()}`;
// A fresh operator name per run: the shared database keeps earlier runs' records.
const carolName = `carol-${randomUUID().slice(0, 8)}`;
const carol = `carol-token-${randomUUID()}`;

describe('HTTP: named operator tokens and /admin/v1/audit', function () {
  this.timeout(60_000);
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi({ ADMIN_API_TOKENS: `alice:${alice},bob:${bob},${carolName}:${carol}` });
  });
  after(async () => api.stop());

  const as = (token: string) => ({ Authorization: `Bearer ${token}`, 'User-Agent': 'ops' });

  async function adjust(
    token: string,
    instance: string,
    delta: number,
    headers: Record<string, string> = {},
  ) {
    return call(api.url, 'POST', '/admin/v1/credits/adjust', {
      headers: { ...as(token), ...headers },
      body: {
        instance_id: instance,
        user_id: 9,
        user_email: 'nine@example.jp',
        credit_type: 'article',
        delta,
        reason: 'audit test',
      },
    });
  }

  async function audit(token: string, query = '') {
    return call(api.url, 'GET', `/admin/v1/audit${query}`, { headers: as(token) });
  }

  async function instanceExists() {
    const plugin = await registerPlugin(api.url);
    return plugin.instance_id;
  }

  it('each named token works, ADMIN_API_TOKEN still does (as admin), a wrong one is 401', async () => {
    const instance = await instanceExists();
    for (const token of [alice, bob, adminToken]) {
      const answer = await adjust(token, instance, 1);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    }
    for (const wrong of [`${alice}x`, alice.slice(0, -1), 'alice', `Bearer ${bob}`]) {
      const refused = await adjust(wrong, instance, 1);
      assert.equal(refused.status, 401, wrong);
      assert.equal(refused.body.error, 'unauthorized');
    }
    const refused = await call(api.url, 'POST', '/admin/v1/credits/adjust', { body: {} });
    assert.equal(refused.status, 401);
  });

  it("an adjustment's ledger entry and audit record name the operator and the answer's X-Request-ID", async () => {
    const instance = await instanceExists();
    const requestId = `audit-${randomUUID()}`;
    const answer = await adjust(alice, instance, 5, { 'X-Request-ID': requestId });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.headers.get('X-Request-ID'), requestId);
    const { db } = await stack();
    const entry = await db
      .collection(collectionNames.ledgerEntries)
      .findOne({ transaction_id: answer.body.transaction_id });
    assert.equal(entry?.operator, 'alice');
    assert.equal(entry?.request_id, requestId);

    // A request id the server made up is recorded too.
    const minted = await adjust(bob, instance, -1);
    const mintedId = minted.headers.get('X-Request-ID')!;
    assert.match(mintedId, /^[0-9a-f-]{36}$/);
    const bobEntry = await db
      .collection(collectionNames.ledgerEntries)
      .findOne({ transaction_id: minted.body.transaction_id });
    assert.equal(bobEntry?.operator, 'bob');
    assert.equal(bobEntry?.request_id, mintedId);

    const listed = await audit(alice, '?operator=alice&limit=10');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assertResponseMatches('GET', '/admin/v1/audit', listed.body);
    const record = listed.body.records.find((r: { request_id: string }) => r.request_id === requestId);
    assert.ok(record, 'the adjustment is in the audit');
    assert.equal(record.operator, 'alice');
    assert.equal(record.method, 'POST');
    assert.equal(record.route, '/admin/v1/credits/adjust');
    assert.equal(record.status, 200);
    assert.equal(record.replayed, false);
    assert.equal(record.targets.instance_id, instance);
    assert.equal(record.targets.user_id, '9');
    assert.equal(record.targets.transaction_id, answer.body.transaction_id);
    assert.match(record.summary, /delta=5/);
    assert.match(record.summary, /reason="audit test"/);
    assert.doesNotMatch(JSON.stringify(record), /nine@example\.jp/, 'no whole body');

    const byBob = await audit(alice, '?operator=bob&limit=200');
    assert.ok(byBob.body.records.some((r: { request_id: string }) => r.request_id === mintedId));
    assert.ok(byBob.body.records.every((r: { operator: string }) => r.operator === 'bob'));
  });

  it('records refused writes with their status, path ids, and never a secret value', async () => {
    const refused = await call(api.url, 'POST', '/admin/v1/credits/adjust', {
      headers: as(bob),
      body: { instance_id: freshInstance(), delta: 0 },
    });
    assert.equal(refused.status, 400);
    const instance = await instanceExists();
    const disabled = await call(api.url, 'POST', `/admin/v1/instances/${instance}/disable`, {
      headers: as(bob),
      body: { reason: 'audit test' },
    });
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    const secret = `secret-${randomUUID()}`;
    // Told to this one instance only (a staged rollout), so no other suite's instances hear of it.
    const key = `audit_test_${randomUUID().slice(0, 8)}`;
    const configured = await call(api.url, 'PUT', `/admin/v1/config/${key}?instance_ids=${instance}`, {
      headers: as(bob),
      body: { api_key: secret, nested: { value: secret } },
    });
    assert.ok(configured.status < 500, JSON.stringify(configured.body));

    const listed = await audit(bob, '?operator=bob&limit=200');
    const of = (answer: { headers: Headers }) =>
      listed.body.records.find(
        (r: { request_id: string }) => r.request_id === answer.headers.get('X-Request-ID'),
      );
    assert.equal(of(refused)?.status, 400);
    assert.equal(of(disabled)?.route, '/admin/v1/instances/:id/disable');
    assert.equal(of(disabled)?.targets.id, instance);
    assert.equal(of(disabled)?.status, 200);
    assert.equal(of(configured)?.route, '/admin/v1/config/:key');
    assert.doesNotMatch(JSON.stringify(listed.body), new RegExp(secret));
    const { db } = await stack();
    assert.equal(
      await db.collection(collectionNames.adminAudit).countDocuments({ summary: { $regex: secret } }),
      0,
    );
  });

  it('pages newest first with next_cursor, filters by operator and time, refuses a bad cursor', async () => {
    const instance = await instanceExists();
    const started = new Date(Date.now() - 1000).toISOString();
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const answer = await adjust(carol, instance, i);
      assert.equal(answer.status, 200);
      ids.push(answer.headers.get('X-Request-ID')!);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    const pages: number[] = [];
    do {
      const query: string = `?operator=${carolName}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await audit(carol, query);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      pages.push(page.body.records.length);
      seen.push(...page.body.records.map((r: { request_id: string }) => r.request_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.deepEqual(pages, [2, 2, 1]);
    assert.deepEqual(seen, [...ids].reverse(), 'newest first, none twice, none left out');

    const later = await audit(carol, `?operator=${carolName}&since=${new Date().toISOString()}`);
    assert.deepEqual(later.body.records, []);
    const window = await audit(
      carol,
      `?operator=${carolName}&since=${started}&until=${new Date(Date.now() + 1000).toISOString()}`,
    );
    assert.equal(window.body.records.length, 5);
    assert.equal(window.body.next_cursor, null);

    const bad = await audit(carol, '?cursor=not-a-cursor');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_request');
    assert.equal((await audit(carol, '?limit=0')).status, 400);
    assert.equal((await audit(carol, '?operator=Not%20A%20Name')).status, 400);
  });

  it('GET /admin/v1/audit needs an operator token (401), and is not itself audited', async () => {
    const none = await call(api.url, 'GET', '/admin/v1/audit');
    assert.equal(none.status, 401);
    assert.equal((await audit('wrong-token-wrong-token-wrong-token-0000')).status, 401);
    const read = await audit(carol, `?operator=${carolName}`);
    const { db } = await stack();
    const own = await db
      .collection(collectionNames.adminAudit)
      .findOne({ request_id: read.headers.get('X-Request-ID')! });
    assert.equal(own, null);
  });
});
