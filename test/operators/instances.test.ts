import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { collectionNames } from '../../src/mongo/collections';
import { insertPurchase } from '../../src/purchases/store';
import { stack, startTestApi } from '../helpers/env';
import { asPlugin, call, registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';
import { adminCall, adminGet, assertInvalid } from './helpers';

// Issue 12: an operator reads, changes and deletes an instance. A status change tells the plugin
// once; a delete leaves no credential of the instance working and keeps its ledger.

const documented = '/admin/v1/instances/{id}';

async function eventsOf(instanceId: string, event: string) {
  const { db } = await stack();
  return db
    .collection(collectionNames.webhookEvents)
    .find({ instance_id: instanceId, event_type: event })
    .toArray();
}

describe('operators: instances (issue 12)', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi({ TOKEN_ROTATION_GRACE_SECONDS: '600' });
  });
  after(() => api.stop());

  it('shows an instance with its users, users count, last activity and recent purchases', async () => {
    const plugin = await registerPlugin(api.url, { last_activity: '2025-01-01T00:00:00Z' });
    for (const user_id of [1, 2, 3]) {
      const adjusted = await adminCall(api.url, 'POST', '/admin/v1/credits/adjust', {
        instance_id: plugin.instance_id,
        user_id,
        user_email: `u${user_id}@example.jp`,
        credit_type: 'rewrite',
        delta: user_id * 10,
        reason: 'detail test',
      });
      assert.equal(adjusted.status, 200, JSON.stringify(adjusted.body));
    }
    const { db } = await stack();
    for (let i = 0; i < 12; i++) {
      const at = new Date(Date.UTC(2025, 2, 1, 0, i)).toISOString();
      await insertPurchase(db, {
        purchase_id: `pur_${randomUUID().replaceAll('-', '')}`,
        instance_id: plugin.instance_id,
        user_id: '1',
        user_email: 'u1@example.jp',
        package_id: 'rewrite_starter',
        credit_type: 'rewrite',
        credits: 100,
        amount: 9800,
        currency: 'JPY',
        flow: 'checkout',
        created_at: at,
        pay_by: at,
        status: 'pending',
        updated_at: new Date(at),
      });
    }
    const detail = await adminGet(api.url, `/admin/v1/instances/${plugin.instance_id}`, documented);
    assert.equal(detail.instance.instance_id, plugin.instance_id);
    assert.equal(detail.instance.users_count, 3);
    assert.ok(detail.instance.last_activity_at > '2025-01-01T00:00:00.000Z', 'the ledger is more recent');
    assert.equal(detail.instance.status, 'active');
    assert.equal(detail.instance.deleted_at, null);
    assert.deepEqual(
      detail.users.map((user: { user_id: string; credits: { rewrite_credits: number } }) => [
        user.user_id,
        user.credits.rewrite_credits,
      ]),
      [
        ['3', 30],
        ['2', 20],
        ['1', 10],
      ],
    );
    assert.equal(detail.users_next_cursor, null);
    assert.equal(detail.recent_purchases.length, 10);
    assert.equal(detail.recent_purchases[0].created_at, '2025-03-01T00:11:00.000Z');
    // The rest continues in the purchase list.
    const rest = await adminGet(
      api.url,
      `/admin/v1/purchases?instance_id=${plugin.instance_id}&cursor=${detail.purchases_next_cursor}`,
      '/admin/v1/purchases',
    );
    assert.deepEqual(
      rest.purchases.map((purchase: { created_at: string }) => purchase.created_at),
      ['2025-03-01T00:01:00.000Z', '2025-03-01T00:00:00.000Z'],
    );
    assert.equal(rest.next_cursor, null);

    const missing = await adminCall(api.url, 'GET', '/admin/v1/instances/no-such-instance');
    assert.equal(missing.status, 404);
  });

  it('changes the profile and the status, telling the plugin once per change', async () => {
    const plugin = await registerPlugin(api.url);
    const path = `/admin/v1/instances/${plugin.instance_id}`;
    const put = async (body: Record<string, unknown>) => {
      const result = await adminCall(api.url, 'PUT', path, body);
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assertResponseMatches('PUT', documented, result.body);
      return result.body;
    };
    const renamed = await put({
      site_title: 'Renamed',
      admin_email: 'new-admin@example.jp',
      post_count: '12',
    });
    assert.equal(renamed.instance.site_title, 'Renamed');
    assert.equal(renamed.instance.admin_email, 'new-admin@example.jp');
    assert.equal(renamed.instance.post_count, 12);
    assert.equal(renamed.webhook, null);

    const disabled = await put({ status: 'disabled', disabled_reason: 'unpaid invoice' });
    assert.equal(disabled.instance.status, 'disabled');
    assert.equal(disabled.instance.disabled_reason, 'unpaid invoice');
    assert.ok(disabled.webhook?.event_id);
    const refused = await asPlugin(api.url, plugin)('GET', '/api/v1/users/credits?user_id=1');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'instance_disabled');
    assert.equal((await put({ status: 'disabled' })).webhook, null, 'already disabled: nothing sent');
    const [event] = await eventsOf(plugin.instance_id, 'plugin_disabled');
    assert.equal(event?.data.reason, 'unpaid invoice');
    assert.equal((await eventsOf(plugin.instance_id, 'plugin_disabled')).length, 1);

    const enabled = await put({ status: 'active' });
    assert.equal(enabled.instance.status, 'active');
    assert.ok(enabled.webhook?.event_id);
    assert.equal((await put({ status: 'active' })).webhook, null);
    assert.equal((await eventsOf(plugin.instance_id, 'plugin_enabled')).length, 1);
    const allowed = await asPlugin(api.url, plugin)('GET', '/api/v1/users/credits?user_id=1');
    assert.equal(allowed.status, 200);

    await assertInvalid(api.url, 'PUT', path, 'disabled_reason', { disabled_reason: 'no status' });
    await assertInvalid(api.url, 'PUT', path, 'status', { status: 'pending' });
    await assertInvalid(api.url, 'PUT', path, 'admin_email', { admin_email: 'not-an-email' });
    await assertInvalid(api.url, 'PUT', path, 'site_url', { site_url: 'ftp://example.com' });
    const missing = await adminCall(api.url, 'PUT', '/admin/v1/instances/no-such-instance', {
      site_title: 'x',
    });
    assert.equal(missing.status, 404);
  });

  it('a delete revokes every credential (token, rotated-out token in grace, scoped key) and keeps the ledger', async () => {
    const plugin = await registerPlugin(api.url);
    const asOld = asPlugin(api.url, plugin);
    const key = await asOld('POST', '/api/v1/api-keys', {
      body: { name: 'reader', scopes: ['credits:read'] },
    });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    const rotated = await asOld('POST', '/api/v1/plugins/rotate-credentials', {
      body: { rotate: ['api_token'] },
    });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const asNew = asPlugin(api.url, { ...plugin, api_token: rotated.body.api_token });
    const asKey = asPlugin(api.url, { ...plugin, api_token: key.body.api_key.key });
    const adjusted = await adminCall(api.url, 'POST', '/admin/v1/credits/adjust', {
      instance_id: plugin.instance_id,
      user_id: 9,
      user_email: 'nine@example.jp',
      credit_type: 'article',
      delta: 5,
      reason: 'before delete',
    });
    assert.equal(adjusted.status, 200);
    const read = '/api/v1/users/credits?user_id=9';
    for (const [who, caller] of [
      ['new token', asNew],
      ['old token in grace', asOld],
      ['scoped key', asKey],
    ] as const) {
      assert.equal((await caller('GET', read)).status, 200, `${who} works before the delete`);
    }

    const deleted = await adminCall(api.url, 'DELETE', `/admin/v1/instances/${plugin.instance_id}`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assertResponseMatches('DELETE', documented, deleted.body);
    assert.equal(deleted.body.instance.status, 'deleted');
    assert.ok(deleted.body.instance.deleted_at);
    assert.ok(deleted.body.webhook?.event_id, 'the plugin is told');
    for (const [who, caller] of [
      ['new token', asNew],
      ['old token in grace', asOld],
      ['scoped key', asKey],
    ] as const) {
      const refused = await caller('GET', read);
      assert.equal(refused.status, 401, `${who} after the delete: ${JSON.stringify(refused.body)}`);
    }
    const { db } = await stack();
    const keys = await db
      .collection(collectionNames.apiKeys)
      .find({ instance_id: plugin.instance_id })
      .toArray();
    assert.ok(
      keys.length === 1 && keys.every((doc) => doc.revoked_at instanceof Date),
      'its keys are revoked',
    );
    const stored = await db
      .collection(collectionNames.instances)
      .findOne({ instance_id: plugin.instance_id });
    assert.equal(stored?.api_token_hash, '');
    assert.equal(stored?.previous_api_token_hash, undefined);
    const debug = await call(api.url, 'GET', '/api/v1/auth/debug', {
      token: rotated.body.api_token,
      instanceId: plugin.instance_id,
    });
    assert.equal(debug.body.authenticated, false);

    // The ledger stays, readable by operators; the id cannot be registered again by anyone.
    const ledger = await adminGet(
      api.url,
      `/admin/v1/ledger?instance_id=${plugin.instance_id}&user_id=9`,
      '/admin/v1/ledger',
    );
    assert.equal(ledger.account.credits.article_credits, 5);
    assert.equal(ledger.entries.length, 1);
    const again = await call(api.url, 'POST', '/api/v1/plugins/register', {
      body: {
        instance_id: plugin.instance_id,
        site_url: 'https://example.com',
        admin_email: 'a@example.com',
      },
    });
    assert.equal(again.status, 409);
    const listed = await adminGet(
      api.url,
      `/admin/v1/instances?status=deleted&q=${plugin.instance_id}`,
      '/admin/v1/instances',
    );
    assert.deepEqual(
      listed.instances.map((instance: { instance_id: string }) => instance.instance_id),
      [plugin.instance_id],
    );

    // Deleting again changes nothing and tells nobody; changing a deleted instance is a conflict.
    const twice = await adminCall(api.url, 'DELETE', `/admin/v1/instances/${plugin.instance_id}`);
    assert.equal(twice.status, 200);
    assert.equal(twice.body.webhook, null);
    assert.equal((await eventsOf(plugin.instance_id, 'plugin_disabled')).length, 1);
    for (const [method, path, body] of [
      ['PUT', '', { status: 'active' }],
      ['POST', '/enable', undefined],
      ['POST', '/disable', { reason: 'x' }],
    ] as const) {
      const result = await adminCall(
        api.url,
        method,
        `/admin/v1/instances/${plugin.instance_id}${path}`,
        body,
      );
      assert.equal(result.status, 409, `${method} ${path}: ${JSON.stringify(result.body)}`);
    }
    const missing = await adminCall(api.url, 'DELETE', '/admin/v1/instances/no-such-instance');
    assert.equal(missing.status, 404);
  });
});
