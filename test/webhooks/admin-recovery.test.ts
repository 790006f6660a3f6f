import assert from 'node:assert/strict';
import { operatorNotifications } from '../../src/webhooks/notifications';
import { publishEvent } from '../../src/webhooks/publish';
import { webhookQueue } from '../../src/webhooks/queue';
import { asPlugin, type CallResult, call, registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';
import { adminToken, type Harness, quickSchedule, webhookHarness } from './harness';
import { startReceiver } from './receiver';

// Webhook recovery as an operator does it (issue 12): a replay to an auto-disabled endpoint is
// refused or enables it, and the endpoint is re-enabled from the admin side.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const admin = () => ({ token: adminToken(), userAgent: 'ops' });

function ok(result: CallResult, status = 200) {
  assert.equal(result.status, status, JSON.stringify(result.body));
  return result.body;
}

describe('admin webhook recovery of an auto-disabled endpoint', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    // "Failing for 5 days" shortened to 1 second.
    h = await webhookHarness({ config: { WEBHOOK_ENDPOINT_DISABLE_SECONDS: '1' } });
  });
  after(() => h.stop());

  /** An instance whose default endpoint was disabled, with one dead letter from before. */
  async function disabledSite() {
    const site = await startReceiver(() => ({ status: 502 }));
    const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
    const published = await publishEvent(h.publisher, {
      instance_id: plugin.instance_id,
      event: 'config_updated',
      data: { key: 'openai' },
      schedule: quickSchedule(200, 20_000),
    });
    const deliveryId = `${published.event_id}:default`;
    await h.waitForDelivery(deliveryId, (d) => d.status === 'dead_lettered');
    return { site, plugin, eventId: published.event_id, deliveryId };
  }

  it('a dead-lettered delivery is refused while the endpoint is disabled, then replayed after re-enable and received', async () => {
    const { site, plugin, eventId, deliveryId } = await disabledSite();
    try {
      // The operator is told where to go: the admin route, not the plugin's.
      const [note] = await operatorNotifications(h.db)
        .find({ instance_id: plugin.instance_id, channel: 'operator' })
        .toArray();
      assert.ok(note);
      assert.ok(
        note.message.includes(`POST /admin/v1/webhooks/endpoints/${plugin.instance_id}/default/enable`),
        note.message,
      );
      assert.ok(!note.message.includes('/api/v1/'), note.message);

      const listed = ok(
        await call(
          h.apiUrl,
          'GET',
          `/admin/v1/webhooks/dead-letters?instance_id=${plugin.instance_id}&endpoint_id=default`,
          admin(),
        ),
      );
      assert.deepEqual(
        listed.dead_letters.map((d: { event_id: string }) => d.event_id),
        [eventId],
      );
      assert.equal(listed.dead_letters[0].last_error, 'HTTP 502');

      site.setResponder(() => ({ status: 200 }));
      const sentBefore = site.received.length;
      const refused = await call(h.apiUrl, 'POST', '/admin/v1/webhooks/replay', {
        ...admin(),
        body: { event_ids: [eventId] },
      });
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'endpoint_disabled');
      assert.match(refused.body.message, /disabled/);
      assert.match(refused.body.message, /enable_endpoint/);
      assert.match(
        refused.body.message,
        /\/admin\/v1\/webhooks\/endpoints\/\{instance_id\}\/\{endpoint_id\}\/enable/,
      );
      assert.deepEqual(
        refused.body.disabled_endpoints.map((e: { instance_id: string; endpoint_id: string }) => [
          e.instance_id,
          e.endpoint_id,
        ]),
        [[plugin.instance_id, 'default']],
      );
      const dry = ok(
        await call(h.apiUrl, 'POST', '/admin/v1/webhooks/replay', {
          ...admin(),
          body: { event_ids: [eventId], dry_run: true },
        }),
      );
      assert.equal(dry.deliveries[0].replay, 'endpoint_disabled');
      // The plugin's replay route refuses too, before it makes or queues anything.
      const pluginRefused = await asPlugin(h.apiUrl, plugin)('POST', '/api/v1/webhooks/default/replay', {
        body: { event_id: eventId },
      });
      assert.equal(pluginRefused.status, 409, JSON.stringify(pluginRefused.body));
      assert.equal(pluginRefused.body.error, 'endpoint_disabled');
      await sleep(500);
      assert.equal(site.received.length, sentBefore, 'nothing was sent');
      assert.equal(await webhookQueue(h.db).countDocuments({ _id: deliveryId }), 0);

      // Re-enabled from the admin side, then replayed: received.
      const enabled = ok(
        await call(h.apiUrl, 'POST', `/admin/v1/webhooks/endpoints/${plugin.instance_id}/default/enable`, {
          ...admin(),
          body: {},
        }),
      );
      assertResponseMatches(
        'POST',
        '/admin/v1/webhooks/endpoints/{instance_id}/{endpoint_id}/enable',
        enabled,
      );
      assert.equal(enabled.changed, true);
      assert.equal(enabled.endpoint.status, 'active');
      assert.deepEqual(enabled.missed.event_ids, [eventId]);
      assert.equal(enabled.replay, null);
      const replayed = ok(
        await call(h.apiUrl, 'POST', '/admin/v1/webhooks/replay', {
          ...admin(),
          body: { event_ids: [eventId] },
        }),
      );
      assert.equal(replayed.deliveries[0].replay, 'started');
      await site.waitFor(sentBefore + 1);
      assert.equal(site.received.at(-1)!.headers['webhook-id'], eventId);
      await h.waitForDelivery(deliveryId, (d) => d.status === 'delivered');

      // Enabling again changes nothing.
      const again = ok(
        await call(h.apiUrl, 'POST', `/admin/v1/webhooks/endpoints/${plugin.instance_id}/default/enable`, {
          ...admin(),
          body: { replay_missed: true },
        }),
      );
      assert.equal(again.changed, false);
      assert.equal(again.replay, null);
    } finally {
      await site.close();
    }
  });

  it('a replay with enable_endpoint enables the endpoint and sends; the admin enable can replay what was missed', async () => {
    const first = await disabledSite();
    const second = await disabledSite();
    try {
      first.site.setResponder(() => ({ status: 200 }));
      const replayed = ok(
        await call(h.apiUrl, 'POST', '/admin/v1/webhooks/replay', {
          ...admin(),
          body: { event_ids: [first.eventId], enable_endpoint: true },
        }),
      );
      assert.deepEqual(replayed.enabled_endpoints, [
        { instance_id: first.plugin.instance_id, endpoint_id: 'default' },
      ]);
      assert.equal(replayed.deliveries[0].replay, 'started');
      await h.waitForDelivery(first.deliveryId, (d) => d.status === 'delivered');

      second.site.setResponder(() => ({ status: 200 }));
      const enabled = ok(
        await call(
          h.apiUrl,
          'POST',
          `/admin/v1/webhooks/endpoints/${second.plugin.instance_id}/default/enable`,
          {
            ...admin(),
            body: { replay_missed: true },
          },
        ),
      );
      assert.equal(enabled.changed, true);
      assert.equal(enabled.instance_id, second.plugin.instance_id);
      assert.deepEqual(
        enabled.replay.deliveries.map((d: { event_id: string; replay: string }) => [d.event_id, d.replay]),
        [[second.eventId, 'started']],
      );
      await h.waitForDelivery(second.deliveryId, (d) => d.status === 'delivered');
    } finally {
      await first.site.close();
      await second.site.close();
    }
  });

  it('the admin enable needs the admin token, a known instance and endpoint, and a valid body', async () => {
    const plugin = await registerPlugin(h.apiUrl);
    const path = `/admin/v1/webhooks/endpoints/${plugin.instance_id}/default/enable`;
    assert.equal((await call(h.apiUrl, 'POST', path, { userAgent: 'ops', body: {} })).status, 401);
    const unknownInstance = await call(
      h.apiUrl,
      'POST',
      '/admin/v1/webhooks/endpoints/nobody/default/enable',
      {
        ...admin(),
        body: {},
      },
    );
    assert.equal(unknownInstance.status, 404);
    const unknownEndpoint = await call(
      h.apiUrl,
      'POST',
      `/admin/v1/webhooks/endpoints/${plugin.instance_id}/we_missing/enable`,
      { ...admin(), body: {} },
    );
    assert.equal(unknownEndpoint.status, 404);
    const bad = await call(h.apiUrl, 'POST', path, { ...admin(), body: { replay_missed: 'yes' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /replay_missed/);
    // An endpoint that was never disabled: nothing to do.
    const active = ok(await call(h.apiUrl, 'POST', path, { ...admin(), body: {} }));
    assert.equal(active.changed, false);
    assert.equal(active.endpoint.status, 'active');
  });
});
