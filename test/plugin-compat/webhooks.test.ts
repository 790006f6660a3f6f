import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { packageStore } from '../../src/packages/store';
import { registerPlugin } from '../helpers/plugin-client';
import { adminToken, type Harness, webhookHarness } from '../webhooks/harness';
import { type Receiver, startReceiver } from '../webhooks/receiver';
import { pluginEvents, pluginWebhookHandler } from './plugin-webhook-handler';

// Every event type this backend sends reaches a site whose handler behaves like the plugin's, and
// that handler answers 200 to each: the right signature, a name it knows, the fields it needs.

describe('plugin compatibility: webhooks', function () {
  this.timeout(90_000);
  let harness: Harness;
  let site: Receiver;
  let secret = '';
  const answers: number[] = [];

  before(async () => {
    harness = await webhookHarness({ isolatedDb: true });
    await packageStore(harness.db).seed(harness.config.CREDIT_TYPES);
    const handler = pluginWebhookHandler(() => secret);
    site = await startReceiver((webhook) => {
      const answer = handler(webhook);
      if (answer !== 'hold') answers.push(answer.status);
      return answer;
    });
  });
  after(async () => {
    await site.close();
    await harness.stop();
  });

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${harness.apiUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken()}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('the receiver is strict: wrong signature 401, unknown event 400, credits_updated without email 500', () => {
    secret = 'whsec_strictness';
    const handler = pluginWebhookHandler(() => secret);
    const signed = (json: unknown) => {
      const body = JSON.stringify(json);
      const signature = createHmac('sha256', secret).update(body).digest('hex');
      return { headers: { 'x-rakubun-signature': signature }, url: '/', body, json, at: 0 };
    };
    const status = (answer: ReturnType<typeof handler>) => (answer === 'hold' ? 0 : answer.status);
    assert.equal(status(handler({ ...signed({ event: 'test_webhook' }), headers: {} })), 401);
    assert.equal(status(handler(signed({ event: 'test' }))), 400);
    assert.equal(status(handler(signed({ event: 'credits_updated', data: { user_id: '1' } }))), 500);
    assert.equal(status(handler(signed({ event: 'test_webhook' }))), 200);
  });

  it('accepts every event type the backend sends, each answered 200', async () => {
    const plugin = await registerPlugin(harness.apiUrl, { site_url: site.url });
    secret = plugin.webhook_secret;
    const asPlugin = (method: string, path: string) =>
      fetch(`${harness.apiUrl}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${plugin.api_token}`,
          'X-Instance-ID': plugin.instance_id,
          'User-Agent': 'Rakubun-WordPress-Plugin/2.1.0',
        },
      }).then(async (response) => ({ status: response.status, body: await response.json() }));

    const endpoints = await asPlugin('GET', '/api/v1/webhooks');
    assert.equal(endpoints.status, 200, JSON.stringify(endpoints.body));
    const endpointId = endpoints.body.endpoints[0].id;
    assert.equal((await asPlugin('POST', `/api/v1/webhooks/${endpointId}/test`)).status, 200);

    const adjust = await admin('POST', '/admin/v1/credits/adjust', {
      instance_id: plugin.instance_id,
      user_id: 3,
      user_email: 'editor@example.jp',
      credit_type: 'image',
      delta: 4,
      reason: 'welcome gift',
    });
    assert.equal(adjust.status, 200);
    assert.equal(
      (await admin('PUT', `/admin/v1/config/features?instance_ids=${plugin.instance_id}`, { beta: true }))
        .status,
      200,
    );
    assert.equal(
      (await admin('PUT', '/admin/v1/packages/pkg_image_50', { name: 'Image 50 (sale)' })).status,
      200,
    );
    // package_updated goes to the active instances a broadcast finds: let it arrive before disabling.
    await site.waitFor(1, 30_000, (webhook) => webhook.json?.event === 'package_updated');
    assert.equal(
      (await admin('POST', `/admin/v1/instances/${plugin.instance_id}/disable`, { reason: 'unpaid invoice' }))
        .status,
      200,
    );
    assert.equal((await admin('POST', `/admin/v1/instances/${plugin.instance_id}/enable`)).status, 200);

    const received = await site.waitFor(pluginEvents.length, 60_000, (webhook) => !!webhook.json);
    const seen = new Set(received.map((webhook) => webhook.json.event));
    for (const event of pluginEvents)
      assert.ok(seen.has(event), `${event} arrived (got ${[...seen].join(', ')})`);
    assert.ok(
      answers.every((status) => status === 200),
      `the handler answered ${answers.join(', ')}`,
    );

    const credits = received.find((webhook) => webhook.json.event === 'credits_updated')!;
    assert.equal(credits.url, '/wp-admin/admin-ajax.php?action=rakubun_webhook');
    assert.equal(credits.json.data.user_email, 'editor@example.jp');
    assert.equal(credits.json.data.credits.image_credits, 4);
    for (const webhook of received) assert.ok(!Number.isNaN(Date.parse(webhook.json.timestamp)), 'timestamp');
  });
});
