import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { collectionNames } from '../../src/mongo/collections';
import { packageStore } from '../../src/packages/store';
import { asPlugin, type CallResult, call, issuedSecrets } from '../helpers/plugin-client';
import { pluginWebhookHandler } from '../plugin-compat/plugin-webhook-handler';
import { adminToken, type Harness, webhookHarness } from '../webhooks/harness';
import { type Receiver, startReceiver } from '../webhooks/receiver';

// Issue 10, finding 2: registration proved nothing. In `verified` mode a new instance stays pending
// until its site answers 2xx to a signed test_webhook, which only the site that stored the secret
// given at registration can do (the plugin checks X-Rakubun-Signature with it). In `approval` mode
// an operator lets it in.

const userAgent = 'Rakubun-WordPress-Plugin/1.0.0';

async function register(apiUrl: string, siteUrl: string) {
  const result = await call(apiUrl, 'POST', '/api/v1/plugins/register', {
    userAgent,
    body: { instance_id: randomUUID(), site_url: siteUrl, admin_email: 'owner@example.jp' },
  });
  assert.equal(result.status, 200, JSON.stringify(result.body));
  // What the plugin reads is unchanged: success, api_token, webhook_secret.
  assert.equal(result.body.success, true);
  assert.equal(result.body.status, 'registered');
  issuedSecrets.push(result.body.api_token, result.body.webhook_secret);
  return result.body as {
    instance_id: string;
    api_token: string;
    webhook_secret: string;
    instance_status: string;
  };
}

async function statusOf(
  apiUrl: string,
  plugin: { instance_id: string; api_token: string; webhook_secret: string },
) {
  const shown = await asPlugin(apiUrl, plugin)('GET', `/api/v1/instances/${plugin.instance_id}`, {
    userAgent,
  });
  assert.equal(shown.status, 200, JSON.stringify(shown.body));
  return shown.body.instance as { status: string; pending_reason: string | null };
}

async function waitForStatus(
  apiUrl: string,
  plugin: { instance_id: string; api_token: string; webhook_secret: string },
  wanted: string,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const instance = await statusOf(apiUrl, plugin);
    if (instance.status === wanted) return instance;
    if (Date.now() > deadline) throw new Error(`instance still ${instance.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The calls a pending instance may not make, each with what the plugin would send. */
function gatedCalls(
  apiUrl: string,
  plugin: { instance_id: string; api_token: string; webhook_secret: string },
) {
  const as = asPlugin(apiUrl, plugin);
  return {
    config: () => as('GET', '/api/v1/config/article', { userAgent }),
    checkout: () =>
      as('POST', '/api/v1/checkout/sessions', {
        userAgent,
        body: { user_id: 1, user_email: 'buyer@example.jp', package_id: 'pkg_article_10' },
      }),
    intent: () =>
      as('POST', '/api/v1/payments/create-intent', {
        userAgent,
        body: {
          user_id: 1,
          user_email: 'buyer@example.jp',
          package_id: 'pkg_article_10',
          credit_type: 'article',
        },
      }),
    deduct: () =>
      as('POST', '/api/v1/users/deduct-credits', {
        userAgent,
        body: { user_id: 1, user_email: 'buyer@example.jp', credit_type: 'article', amount: 1 },
      }),
  };
}

function assertPending(result: CallResult, what: string) {
  assert.equal(result.status, 403, `${what}: ${JSON.stringify(result.body)}`);
  assert.equal(result.body.success, false, what);
  assert.equal(result.body.error, 'instance_pending', `${what}: ${JSON.stringify(result.body)}`);
}

const admin = (harness: Harness, method: string, path: string) =>
  fetch(`${harness.apiUrl}${path}`, { method, headers: { Authorization: `Bearer ${adminToken()}` } }).then(
    async (response) => ({ status: response.status, body: await response.json() }),
  );

describe('registration mode verified: a site proves it holds the secret it was given', function () {
  this.timeout(90_000);
  let harness: Harness;
  let owner: Receiver;
  let stranger: Receiver;
  /** The secret the owner's site stored from its registration answer (empty until it has one). */
  let ownerSecret = '';

  before(async () => {
    harness = await webhookHarness({
      isolatedDb: true,
      config: { REGISTRATION_MODE: 'verified', WEBHOOK_RETRY_DELAYS_SECONDS: '1' },
    });
    await packageStore(harness.db).seed(harness.config.CREDIT_TYPES);
    const ownerHandler = pluginWebhookHandler(() => ownerSecret);
    owner = await startReceiver((webhook) => ownerHandler(webhook));
    // A real plugin that never asked for this registration: it checks with the secret of its own.
    const strangerHandler = pluginWebhookHandler(() => 'whsec_the_sites_own_secret');
    stranger = await startReceiver((webhook) => strangerHandler(webhook));
  });
  after(async () => {
    await owner?.close();
    await stranger?.close();
    await harness?.stop();
  });

  it('is pending until the signed test_webhook is answered 2xx by the site that stored the secret', async () => {
    const plugin = await register(harness.apiUrl, owner.url);
    assert.equal(plugin.instance_status, 'pending');
    ownerSecret = plugin.webhook_secret; // update_option() after the answer, as register_plugin() does
    const instance = await waitForStatus(harness.apiUrl, plugin, 'active');
    assert.equal(instance.pending_reason, null);

    const verification = owner.received.filter((webhook) => webhook.json?.event === 'test_webhook');
    assert.ok(verification.length >= 1, 'a test_webhook reached the site');
    assert.equal(verification[0]!.url, '/wp-admin/admin-ajax.php?action=rakubun_webhook');
    assert.equal(verification[0]!.json.instance_id, plugin.instance_id);
    // Every try carried the same event (one durable delivery, retried until the site knew the secret).
    assert.equal(new Set(verification.map((webhook) => webhook.json.id)).size, 1);

    // Active now: the gated calls get past the gate (the answers are whatever the route gives).
    const calls = gatedCalls(harness.apiUrl, plugin);
    const deduct = await calls.deduct();
    assert.notEqual(deduct.body.error, 'instance_pending', JSON.stringify(deduct.body));
    assert.equal((await calls.config()).body.error === 'instance_pending', false);

    // Moving to another site needs the same proof again: pending until that site answers.
    const as = asPlugin(harness.apiUrl, plugin);
    const before = stranger.received.length;
    const moved = await as('PUT', `/api/v1/instances/${plugin.instance_id}`, {
      userAgent,
      body: { site_url: stranger.url },
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.instance.status, 'pending');
    assert.equal(moved.body.instance.pending_reason, 'site_verification');
    await stranger.waitFor(before + 1, 30_000);
    assertPending(await calls.deduct(), 'deduct after moving');
    const back = await as('PUT', `/api/v1/instances/${plugin.instance_id}`, {
      userAgent,
      body: { site_url: owner.url },
    });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    await waitForStatus(harness.apiUrl, plugin, 'active');
  });

  it('stays pending when the site does not know the secret, and may only read meanwhile', async () => {
    const plugin = await register(harness.apiUrl, stranger.url);
    assert.equal(plugin.instance_status, 'pending');
    await stranger.waitFor(3, 30_000, (webhook) => webhook.json?.event === 'test_webhook');
    const instance = await statusOf(harness.apiUrl, plugin);
    assert.equal(instance.status, 'pending');
    assert.equal(instance.pending_reason, 'site_verification');

    const calls = gatedCalls(harness.apiUrl, plugin);
    assertPending(await calls.config(), 'config');
    assertPending(await calls.checkout(), 'checkout');
    assertPending(await calls.intent(), 'create-intent');
    assertPending(await calls.deduct(), 'deduct');
    const rotate = await asPlugin(harness.apiUrl, plugin)('POST', '/api/v1/plugins/rotate-credentials', {
      userAgent,
      body: { rotate: ['api_token'] },
    });
    assertPending(rotate, 'rotate-credentials');
    const credits = await asPlugin(harness.apiUrl, plugin)(
      'GET',
      '/api/v1/users/credits?user_id=1&user_email=buyer@example.jp',
      { userAgent },
    );
    assert.equal(credits.status, 200, JSON.stringify(credits.body));
    const packages = await asPlugin(harness.apiUrl, plugin)('GET', '/api/v1/packages', { userAgent });
    assert.equal(packages.status, 200, JSON.stringify(packages.body));

    // Nothing was written for the refused calls: no purchase, no ledger entry.
    assert.equal(
      await harness.db
        .collection(collectionNames.purchases)
        .countDocuments({ instance_id: plugin.instance_id }),
      0,
    );
    assert.equal(
      await harness.db
        .collection(collectionNames.ledgerEntries)
        .countDocuments({ instance_id: plugin.instance_id }),
      0,
    );

    // An operator who knows the site may still let it in.
    const approved = await admin(harness, 'POST', `/admin/v1/instances/${plugin.instance_id}/approve`);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.instance.status, 'active');
    const deduct = await calls.deduct();
    assert.notEqual(deduct.body.error, 'instance_pending', JSON.stringify(deduct.body));
  });
});

describe('registration mode approval: an operator lets each instance in', function () {
  this.timeout(60_000);
  let harness: Harness;

  before(async () => {
    harness = await webhookHarness({ isolatedDb: true, config: { REGISTRATION_MODE: 'approval' } });
    await packageStore(harness.db).seed(harness.config.CREDIT_TYPES);
  });
  after(() => harness?.stop());

  it('is pending for operator approval, sends the site nothing, and becomes active when approved', async () => {
    const plugin = await register(harness.apiUrl, 'https://blog.example.jp');
    assert.equal(plugin.instance_status, 'pending');
    const instance = await statusOf(harness.apiUrl, plugin);
    assert.equal(instance.pending_reason, 'operator_approval');
    assertPending(await gatedCalls(harness.apiUrl, plugin).deduct(), 'deduct');
    assert.equal(
      await harness.db
        .collection(collectionNames.webhookEvents)
        .countDocuments({ instance_id: plugin.instance_id }),
      0,
    );

    assert.equal((await admin(harness, 'POST', '/admin/v1/instances/no-such-instance/approve')).status, 404);
    const approved = await admin(harness, 'POST', `/admin/v1/instances/${plugin.instance_id}/approve`);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.instance.status, 'active');
    assert.equal((await statusOf(harness.apiUrl, plugin)).status, 'active');
    // Approving again changes nothing and says so.
    const again = await admin(harness, 'POST', `/admin/v1/instances/${plugin.instance_id}/approve`);
    assert.equal(again.status, 409, JSON.stringify(again.body));
  });
});
