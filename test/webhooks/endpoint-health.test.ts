import assert from 'node:assert/strict';
import { operatorNotifications } from '../../src/webhooks/notifications';
import { publishEvent } from '../../src/webhooks/publish';
import { asPlugin, call, registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';
import { adminToken, type Harness, quickSchedule, webhookHarness } from './harness';
import { startReceiver } from './receiver';

describe('webhook endpoint health', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    // "Failing for 5 days" shortened to 1 second.
    h = await webhookHarness({ config: { WEBHOOK_ENDPOINT_DISABLE_SECONDS: '1' } });
  });
  after(() => h.stop());

  it('disables an endpoint that keeps failing, tells the operator, and offers a replay on re-enable', async () => {
    const site = await startReceiver(() => ({ status: 502 }));
    try {
      const plugin = await registerPlugin(h.apiUrl, { site_url: site.url, admin_email: 'owner@example.jp' });
      const as = asPlugin(h.apiUrl, plugin);
      const first = await publishEvent(h.publisher, {
        instance_id: plugin.instance_id,
        event: 'config_updated',
        data: { key: 'openai' },
        schedule: quickSchedule(200, 20_000),
      });
      const dead = await h.waitForDelivery(`${first.event_id}:default`, (d) => d.status === 'dead_lettered');
      assert.equal(dead.end_reason, 'endpoint disabled');

      const listed = await as('GET', '/api/v1/webhooks');
      assert.equal(listed.body.endpoints[0].status, 'disabled');
      assert.match(listed.body.endpoints[0].disabled_reason, /failed since/);

      const notes = await operatorNotifications(h.db).find({ instance_id: plugin.instance_id }).toArray();
      assert.deepEqual(notes.map((n) => n.channel).sort(), ['email', 'operator']);
      assert.equal(notes.find((n) => n.channel === 'email')!.to, 'owner@example.jp');
      const adminView = await call(
        h.apiUrl,
        'GET',
        `/admin/v1/webhooks/notifications?instance_id=${plugin.instance_id}`,
        { token: adminToken(), userAgent: 'ops' },
      );
      assert.equal(adminView.body.notifications.length, 2);

      // While disabled, news is kept as dead letters without a single request.
      const sentSoFar = site.received.length;
      const second = await publishEvent(h.publisher, {
        instance_id: plugin.instance_id,
        event: 'package_updated',
        data: { package_id: 'pkg_1' },
      });
      assert.equal(second.deliveries[0]!.state, 'dead_lettered');

      site.setResponder(() => ({ status: 200 }));
      const enabled = await as('POST', '/api/v1/webhooks/default/enable', { body: { replay_missed: true } });
      assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
      assert.equal(enabled.body.changed, true);
      assert.equal(enabled.body.endpoint.status, 'active');
      assert.deepEqual(enabled.body.missed.event_ids.sort(), [first.event_id, second.event_id].sort());
      assert.equal(enabled.body.replay.deliveries.length, 2);
      assertResponseMatches('POST', '/api/v1/webhooks/{id}/enable', enabled.body);
      await h.waitForDelivery(`${first.event_id}:default`, (d) => d.status === 'delivered');
      await h.waitForDelivery(`${second.event_id}:default`, (d) => d.status === 'delivered');
      assert.equal(site.received.length, sentSoFar + 2);
    } finally {
      await site.close();
    }
  });
});
