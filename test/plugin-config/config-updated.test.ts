import assert from 'node:assert/strict';
import type { webhookBroadcastWorkflow } from '../../workflows/webhook-broadcast/workflow';
import { adminToken } from '../helpers/http';
import { call, registerPlugin } from '../helpers/plugin-client';
import { type Harness, webhookHarness } from '../webhooks/harness';
import { type Receiver, startReceiver } from '../webhooks/receiver';

// A change of provider settings by the operator sends config_updated: to the one instance for an
// override, to every active instance for a global change. Never with the settings in it.

describe('Plugin configuration: config_updated on provider changes', function () {
  this.timeout(90_000);
  let h: Harness;
  let site: Receiver;
  let ids: string[];
  const admin = (body: unknown) => ({ token: adminToken, userAgent: 'ops', body });
  const configUpdates = () =>
    site.received.filter((w) => w.json?.event === 'config_updated').map((w) => w.headers['x-instance-id']);

  before(async () => {
    // Its own database, so that "every instance" means these two.
    h = await webhookHarness({ isolatedDb: true });
    site = await startReceiver();
    ids = [];
    for (let i = 0; i < 2; i += 1)
      ids.push((await registerPlugin(h.apiUrl, { site_url: site.url })).instance_id);
  });
  after(async () => {
    await site.close();
    await h.stop();
  });

  it('an override tells that instance only; a global change tells every instance', async () => {
    const [first, second] = ids as [string, string];
    const override = await call(
      h.apiUrl,
      'PUT',
      '/admin/v1/config/provider',
      admin({ provider: 'novita', instance_id: first, model_article: 'deepseek/deepseek-v3' }),
    );
    assert.equal(override.status, 200, JSON.stringify(override.body));
    const one = await h.temporal.client.workflow
      .getHandle<typeof webhookBroadcastWorkflow>(override.body.broadcast.workflow_id)
      .result();
    assert.equal(one.published, 1);
    await site.waitFor(1, 20_000, (w) => w.json?.event === 'config_updated');
    assert.deepEqual(configUpdates(), [first]);
    const webhook = site.received.find((w) => w.json?.event === 'config_updated')!;
    assert.deepEqual(webhook.json.data.key, 'provider');
    assert.deepEqual(Object.keys(webhook.json.data).sort(), ['key', 'updated_at'], 'never the settings');

    const global = await call(
      h.apiUrl,
      'PUT',
      '/admin/v1/config/provider',
      admin({ provider: 'openai', api_key: 'sk-broadcast-test-0123456789' }),
    );
    assert.equal(global.status, 200);
    await h.temporal.client.workflow.getHandle(global.body.broadcast.workflow_id).result();
    await site.waitFor(3, 20_000, (w) => w.json?.event === 'config_updated');
    assert.deepEqual(configUpdates().sort(), [first, first, second].sort());
    assert.equal(
      site.received.some((w) => w.body.includes('sk-broadcast-test-0123456789')),
      false,
      'the key is never sent in a webhook',
    );
  });
});
