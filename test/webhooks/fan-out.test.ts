import assert from 'node:assert/strict';
import { startBroadcast } from '../../src/webhooks/broadcast';
import { webhookEvents } from '../../src/webhooks/events';
import { notify } from '../../src/webhooks/notify';
import type { webhookBroadcastWorkflow } from '../../workflows/webhook-broadcast/workflow';
import { call, registerPlugin } from '../helpers/plugin-client';
import { adminToken, type Harness, webhookHarness } from './harness';
import { type Receiver, startReceiver } from './receiver';

const quietLog = { warn() {}, error() {} };

describe('webhook fan-out', function () {
  this.timeout(90_000);
  let h: Harness;
  let site: Receiver;
  let instanceIds: string[];
  const admin = () => ({ token: adminToken(), userAgent: 'ops' });
  const receivedBy = (event: string) =>
    site.received.filter((w) => w.json?.event === event).map((w) => w.headers['x-instance-id'] as string);

  before(async () => {
    // Its own database: "every instance" means these five only.
    h = await webhookHarness({ isolatedDb: true });
    site = await startReceiver();
    instanceIds = [];
    for (let i = 0; i < 5; i += 1) {
      instanceIds.push((await registerPlugin(h.apiUrl, { site_url: site.url })).instance_id);
    }
  });
  after(async () => {
    await site.close();
    await h.stop();
  });

  it('disable and enable tell the instance: plugin_disabled with the reason, then plugin_enabled', async () => {
    const target = instanceIds[4]!;
    const disabled = await call(h.apiUrl, 'POST', `/admin/v1/instances/${target}/disable`, {
      ...admin(),
      body: { reason: 'payment overdue' },
    });
    assert.equal(disabled.status, 200);
    assert.match(disabled.body.webhook.event_id, /^evt_/);
    const [notice] = await site.waitFor(1, 20_000, (w) => w.json?.event === 'plugin_disabled');
    assert.equal(notice!.headers['x-instance-id'], target);
    assert.equal(notice!.json.data.reason, 'payment overdue');

    const enabled = await call(h.apiUrl, 'POST', `/admin/v1/instances/${target}/enable`, admin());
    assert.equal(enabled.status, 200);
    await site.waitFor(1, 20_000, (w) => w.json?.event === 'plugin_enabled');
    assert.deepEqual(receivedBy('plugin_enabled'), [target]);
  });

  it('PUT /admin/v1/config/:key sends config_updated to every active instance', async () => {
    const off = instanceIds[3]!;
    await call(h.apiUrl, 'POST', `/admin/v1/instances/${off}/disable`, {
      ...admin(),
      body: { reason: 'test' },
    });
    const put = await call(h.apiUrl, 'PUT', '/admin/v1/config/openai', {
      ...admin(),
      body: { model: 'gpt-4o' },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.match(put.body.broadcast.broadcast_id, /^bc_/);
    await h.temporal.client.workflow.getHandle(put.body.broadcast.workflow_id).result();
    await site.waitFor(4, 20_000, (w) => w.json?.event === 'config_updated');
    assert.deepEqual(receivedBy('config_updated').sort(), instanceIds.filter((id) => id !== off).sort());
    const webhook = site.received.find((w) => w.json?.event === 'config_updated')!;
    assert.deepEqual(Object.keys(webhook.json.data).sort(), ['key', 'updated_at'], 'never the config value');
    await call(h.apiUrl, 'POST', `/admin/v1/instances/${off}/enable`, admin());
  });

  it('a broadcast to a chosen list pages in batches with continue-as-new, once per instance', async () => {
    const chosen = [instanceIds[0]!, instanceIds[1]!, instanceIds[2]!, 'no-such-instance', instanceIds[4]!];
    const started = await startBroadcast(h.publisher, {
      event: 'package_updated',
      data: { package_id: 'pkg_image_50' },
      instance_ids: chosen,
      batch_size: 2,
      batches_per_run: 1,
    });
    const result = await h.temporal.client.workflow
      .getHandle<typeof webhookBroadcastWorkflow>(started.workflow_id)
      .result();
    assert.deepEqual(result, { published: 4, unknown: 1, runs: 3 });
    await site.waitFor(4, 20_000, (w) => w.json?.event === 'package_updated');
    assert.deepEqual(
      receivedBy('package_updated').sort(),
      chosen.filter((id) => id !== 'no-such-instance').sort(),
    );
    const stored = await webhookEvents(h.db).countDocuments({
      idempotency_key: `broadcast:${started.broadcast_id}`,
    });
    assert.equal(stored, 4, 'one event per instance');
  });

  it('notify() (for the admin routes) and the admin broadcast route reach the chosen instances', async () => {
    const viaFunction = await notify(h.publisher, quietLog, {
      to: 'broadcast',
      event: 'package_updated',
      data: { package_id: 'pkg_rewrite_5' },
      instance_ids: [instanceIds[0]!],
    });
    assert.ok(
      viaFunction && 'workflow_id' in viaFunction && viaFunction.sent === 'now',
      JSON.stringify(viaFunction),
    );
    await h.temporal.client.workflow.getHandle(viaFunction.workflow_id).result();
    const viaRoute = await call(h.apiUrl, 'POST', '/admin/v1/webhooks/broadcast', {
      ...admin(),
      body: {
        event: 'package_updated',
        data: { package_id: 'pkg_article_10' },
        instance_ids: [instanceIds[1]!],
      },
    });
    assert.equal(viaRoute.status, 202, JSON.stringify(viaRoute.body));
    await site.waitFor(2, 20_000, (w) =>
      ['pkg_rewrite_5', 'pkg_article_10'].includes(w.json?.data?.package_id),
    );
    const bad = await call(h.apiUrl, 'POST', '/admin/v1/webhooks/broadcast', {
      ...admin(),
      body: { event: 'plugin_disabled' },
    });
    assert.equal(bad.status, 400);
  });
});
