import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { insertPurchase, type PurchaseDoc } from '../../src/purchases/store';
import { stack, startTestApi } from '../helpers/env';
import { asPlugin, call, registerPlugin } from '../helpers/plugin-client';
import { adminCall, adminGet, allPages, assertInvalid } from './helpers';

// Issue 12: the operators' lists. Every one pages the same way (cursor, limit 1..200 default 50,
// next_cursor null on the last page), refuses what it did not give out, and never repeats or skips
// an item across pages, even while new ones are written.

const lists = ['/admin/v1/instances', '/admin/v1/users', '/admin/v1/purchases'];

function purchaseDoc(instanceId: string, createdAt: string, extra: Partial<PurchaseDoc> = {}): PurchaseDoc {
  return {
    purchase_id: `pur_${randomUUID().replaceAll('-', '')}`,
    instance_id: instanceId,
    user_id: '7',
    user_email: 'Buyer.Seven@Example.JP',
    package_id: 'article_starter',
    credit_type: 'article',
    credits: 10,
    amount: 750,
    currency: 'JPY',
    flow: 'checkout',
    created_at: createdAt,
    pay_by: createdAt,
    status: 'pending',
    updated_at: new Date(createdAt),
    ...extra,
  };
}

describe('operators: lists and paging (issue 12)', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.stop());

  it('refuses every new read without the admin token (401)', async () => {
    const paths = [
      '/admin/v1/stats',
      '/admin/v1/instances',
      '/admin/v1/instances/some-instance',
      '/admin/v1/users',
      '/admin/v1/ledger?instance_id=a&user_id=1',
      '/admin/v1/purchases',
    ];
    for (const path of paths) {
      const missing = await call(api.url, 'GET', path);
      assert.equal(missing.status, 401, path);
      assert.equal(missing.body.error, 'unauthorized');
      const wrong = await call(api.url, 'GET', path, { token: 'not-the-admin-token-not-the-admin-token' });
      assert.equal(wrong.status, 401, path);
    }
    for (const method of ['PUT', 'DELETE']) {
      const result = await call(api.url, method, '/admin/v1/instances/some-instance', {
        body: method === 'PUT' ? { site_title: 'x' } : undefined,
      });
      assert.equal(result.status, 401, method);
    }
  });

  it('refuses a bad limit or cursor on every list with 400 invalid_request', async () => {
    for (const list of [...lists, '/admin/v1/ledger?instance_id=a&user_id=1']) {
      const sep = list.includes('?') ? '&' : '?';
      for (const limit of ['0', '201', 'abc', '1.5', '-3', '']) {
        await assertInvalid(api.url, 'GET', `${list}${sep}limit=${limit}`, 'limit');
      }
      for (const cursor of ['garbage', Buffer.from('{"l":"x","k":[]}').toString('base64url'), '%00']) {
        await assertInvalid(api.url, 'GET', `${list}${sep}cursor=${encodeURIComponent(cursor)}`, 'cursor');
      }
    }
    // A cursor of one list is refused by another.
    await registerPlugin(api.url);
    await registerPlugin(api.url);
    const instances = await adminGet(api.url, '/admin/v1/instances?limit=1', '/admin/v1/instances');
    assert.ok(instances.next_cursor, 'the shared database holds more than one instance');
    await assertInvalid(api.url, 'GET', `/admin/v1/users?cursor=${instances.next_cursor}`, 'cursor');
    await assertInvalid(api.url, 'GET', `/admin/v1/purchases?cursor=${instances.next_cursor}`, 'cursor');
    // The default page is 50, and 200 is allowed.
    const many = await adminGet(api.url, '/admin/v1/instances?limit=200', '/admin/v1/instances');
    assert.ok(many.instances.length <= 200);
    const standard = await adminGet(api.url, '/admin/v1/instances', '/admin/v1/instances');
    assert.ok(standard.instances.length <= 50);
    if (many.instances.length > 50) assert.equal(standard.instances.length, 50);
  });

  it('refuses bad dates and an empty range', async () => {
    for (const list of ['/admin/v1/stats', '/admin/v1/purchases']) {
      await assertInvalid(api.url, 'GET', `${list}?since=yesterday`, 'since');
      await assertInvalid(api.url, 'GET', `${list}?until=2025-13-01`, 'until');
      await assertInvalid(api.url, 'GET', `${list}?since=2025-03-02&until=2025-03-01`, 'since');
      await assertInvalid(api.url, 'GET', `${list}?since=2025-03-01&until=2025-03-01`, 'since');
    }
    await assertInvalid(api.url, 'GET', '/admin/v1/stats?since=2023-01-01&until=2025-01-01', 'since');
    await assertInvalid(api.url, 'GET', '/admin/v1/instances?status=gone', 'status');
    await assertInvalid(api.url, 'GET', '/admin/v1/users?email=not-an-email', 'email');
    await assertInvalid(api.url, 'GET', '/admin/v1/ledger?instance_id=a', 'user_id');
  });

  it('pages instances newest first: no duplicate, no gap, next_cursor null at the end, new ones only before page one', async () => {
    const tag = `pg-${randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(
        (await registerPlugin(api.url, { instance_id: `${tag}-${i}`, site_title: `Blog ${tag}` }))
          .instance_id,
      );
    }
    let added = 0;
    const { pages, items } = await allPages<{ instance_id: string; created_at: string; users_count: number }>(
      api.url,
      `/admin/v1/instances?q=${tag.toUpperCase()}&limit=3`,
      '/admin/v1/instances',
      'instances',
      async () => {
        // Written while the operator pages: newer than everything listed, so never on a later page.
        if (added++ === 0) await registerPlugin(api.url, { instance_id: `${tag}-late` });
      },
    );
    assert.deepEqual(
      pages.map((page) => page.length),
      [3, 3, 1],
    );
    const listed = items.map((item) => item.instance_id);
    assert.deepEqual([...listed].sort(), [...ids].sort(), 'each of the seven exactly once');
    for (let i = 1; i < items.length; i++) {
      assert.ok(items[i - 1]!.created_at >= items[i]!.created_at, 'newest first');
    }
    const late = await adminGet(api.url, `/admin/v1/instances?q=${tag}-late`, '/admin/v1/instances');
    assert.equal(late.instances.length, 1);
    assert.equal(late.next_cursor, null);
    // Search by admin email, in any case, and by status.
    const byTitle = await adminGet(
      api.url,
      `/admin/v1/instances?q=blog%20${tag}&status=active`,
      '/admin/v1/instances',
    );
    assert.equal(byTitle.instances.length, 7);
    const none = await adminGet(
      api.url,
      `/admin/v1/instances?q=${tag}&status=disabled`,
      '/admin/v1/instances',
    );
    assert.deepEqual(none.instances, []);
    assert.equal(none.next_cursor, null);
  });

  it('pages users with exact balances, and finds them by email trimmed and in any case', async () => {
    const plugin = await registerPlugin(api.url);
    const asSite = asPlugin(api.url, plugin);
    const emails = [
      'Mixed.Case@Example.JP',
      'two@example.jp',
      'three@example.jp',
      'four@example.jp',
      'five@example.jp',
    ];
    for (const [i, email] of emails.entries()) {
      const adjusted = await adminCall(api.url, 'POST', '/admin/v1/credits/adjust', {
        instance_id: plugin.instance_id,
        user_id: i + 1,
        user_email: email,
        credit_type: 'article',
        delta: 10 + i,
        reason: 'paging test',
      });
      assert.equal(adjusted.status, 200, JSON.stringify(adjusted.body));
    }
    // Three more entries on user 1: the balance cache lags (it moves every 4th entry), the list does not.
    for (const amount of [1, 2, 3]) {
      const spent = await asSite('POST', '/api/v1/users/deduct-credits', {
        body: { user_id: 1, user_email: emails[0], credit_type: 'article', amount },
      });
      assert.equal(spent.status, 200, JSON.stringify(spent.body));
    }
    const { pages, items } = await allPages<{
      user_id: string;
      user_email: string;
      credits: Record<string, number>;
      ledger_seq: number;
    }>(api.url, `/admin/v1/users?instance_id=${plugin.instance_id}&limit=2`, '/admin/v1/users', 'users');
    assert.deepEqual(
      pages.map((page) => page.length),
      [2, 2, 1],
    );
    assert.deepEqual(items.map((user) => user.user_id).sort(), ['1', '2', '3', '4', '5']);
    const first = items.find((user) => user.user_id === '1')!;
    assert.equal(first.credits.article_credits, 10 - 6);
    assert.equal(first.ledger_seq, 4);
    assert.deepEqual(first.credits, { article_credits: 4, image_credits: 0, rewrite_credits: 0 });

    const search = await adminGet(
      api.url,
      `/admin/v1/users?instance_id=${plugin.instance_id}&email=${encodeURIComponent('  mixed.case@EXAMPLE.jp ')}`,
      '/admin/v1/users',
    );
    assert.deepEqual(
      search.users.map((user: { user_email: string }) => user.user_email),
      ['Mixed.Case@Example.JP'],
      'the email as the plugin sent it',
    );
  });

  it("pages an account's ledger newest first, and refuses another account's cursor", async () => {
    const plugin = await registerPlugin(api.url);
    const asSite = asPlugin(api.url, plugin);
    const adjust = (user_id: number, delta: number) =>
      adminCall(api.url, 'POST', '/admin/v1/credits/adjust', {
        instance_id: plugin.instance_id,
        user_id,
        user_email: 'l@example.jp',
        credit_type: 'image',
        delta,
        reason: 'r',
      });
    assert.equal((await adjust(42, 20)).status, 200);
    assert.equal((await adjust(43, 1)).status, 200);
    for (let i = 0; i < 6; i++) {
      const spent = await asSite('POST', '/api/v1/users/deduct-credits', {
        body: { user_id: '42', user_email: 'l@example.jp', credit_type: 'image', amount: 1 },
      });
      assert.equal(spent.status, 200);
    }
    const path = `/admin/v1/ledger?instance_id=${plugin.instance_id}&user_id=42&limit=3`;
    let written = false;
    const { pages, items } = await allPages<{
      seq: number;
      kind: string;
      delta: number;
      credits_after: Record<string, number>;
    }>(api.url, path, '/admin/v1/ledger', 'entries', async () => {
      if (written) return;
      written = true; // an entry written while the operator pages comes before page one
      await asSite('POST', '/api/v1/users/deduct-credits', {
        body: { user_id: 42, user_email: 'l@example.jp', credit_type: 'image', amount: 1 },
      });
    });
    assert.deepEqual(
      pages.map((page) => page.map((entry) => entry.seq)),
      [[7, 6, 5], [4, 3, 2], [1]],
    );
    assert.deepEqual(items.at(-1), { ...items.at(-1), kind: 'adjust', delta: 20 });
    assert.equal(items[0]!.credits_after.image_credits, 14);

    const first = await adminGet(api.url, path, '/admin/v1/ledger');
    assert.equal(first.entries[0].seq, 8, 'the entry written meanwhile is on page one now');
    assert.equal(first.account.credits.image_credits, 13);
    assert.equal(first.account.ledger_seq, 8);
    await assertInvalid(
      api.url,
      'GET',
      `/admin/v1/ledger?instance_id=${plugin.instance_id}&user_id=43&cursor=${first.next_cursor}`,
      'cursor',
    );
    const unknown = await adminCall(
      api.url,
      'GET',
      `/admin/v1/ledger?instance_id=${plugin.instance_id}&user_id=99`,
    );
    assert.equal(unknown.status, 404);
  });

  it('pages purchases with since/until on created_at, and matches user_email in any case', async () => {
    const { db } = await stack();
    const instanceId = `purchases-${randomUUID()}`;
    const times = [
      '2025-03-01T09:00:00.000Z',
      '2025-03-01T10:00:00.000Z',
      '2025-03-01T10:00:00.000Z', // the same instant: the purchase id breaks the tie
      '2025-03-02T08:00:00.000Z',
      '2025-03-02T23:59:59.999Z',
      '2025-03-03T00:00:00.000Z', // until is exclusive
      '2025-02-28T23:59:59.999Z', // before since
    ];
    const docs = times.map((time) => purchaseDoc(instanceId, time));
    for (const doc of docs) assert.ok(await insertPurchase(db, doc));
    const path = `/admin/v1/purchases?instance_id=${instanceId}&since=2025-03-01&until=2025-03-03T09:00:00%2B09:00&limit=2`;
    const { pages, items } = await allPages<{ purchase_id: string; created_at: string }>(
      api.url,
      path,
      '/admin/v1/purchases',
      'purchases',
    );
    assert.deepEqual(
      pages.map((page) => page.length),
      [2, 2, 1],
    );
    const expected = docs
      .slice(0, 5)
      .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.purchase_id.localeCompare(a.purchase_id))
      .map((doc) => doc.purchase_id);
    assert.deepEqual(
      items.map((item) => item.purchase_id),
      expected,
    );
    const byEmail = await adminGet(
      api.url,
      `/admin/v1/purchases?instance_id=${instanceId}&user_email=${encodeURIComponent(' buyer.seven@example.jp')}&limit=200`,
      '/admin/v1/purchases',
    );
    assert.equal(byEmail.purchases.length, 7);
    assert.equal(byEmail.next_cursor, null);
    const other = await adminGet(
      api.url,
      `/admin/v1/purchases?instance_id=${instanceId}&user_email=someone@example.jp`,
      '/admin/v1/purchases',
    );
    assert.deepEqual(other.purchases, []);
  });
});
