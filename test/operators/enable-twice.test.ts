import assert from 'node:assert/strict';
import { collectionNames } from '../../src/mongo/collections';
import { registerPlugin } from '../helpers/plugin-client';
import { adminToken, type Harness, webhookHarness } from '../webhooks/harness';

// Issue 12, found on the way: enabling an instance that is already active sent another
// plugin_enabled. It now answers the instance as it is and tells the plugin nothing.

describe('enabling an active instance', function () {
  this.timeout(30_000);
  let h: Harness;
  before(async () => {
    h = await webhookHarness({ isolatedDb: true });
  });
  after(() => h.stop());

  const enable = (id: string) =>
    fetch(`${h.apiUrl}/admin/v1/instances/${id}/enable`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken()}` },
    }).then(async (response) => ({ status: response.status, body: await response.json() }));

  it('changes nothing and sends no plugin_enabled; after a disable it sends one', async () => {
    const plugin = await registerPlugin(h.apiUrl, { site_url: 'https://blog.example.jp' });
    const events = () =>
      h.db
        .collection(collectionNames.webhookEvents)
        .countDocuments({ instance_id: plugin.instance_id, event_type: 'plugin_enabled' });
    const again = await enable(plugin.instance_id);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.instance.status, 'active');
    assert.equal(again.body.webhook, null);
    assert.equal(await events(), 0);

    const disabled = await fetch(`${h.apiUrl}/admin/v1/instances/${plugin.instance_id}/disable`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken()}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ reason: 'test' }),
    });
    assert.equal(disabled.status, 200);
    const enabled = await enable(plugin.instance_id);
    assert.equal(enabled.status, 200);
    assert.ok(enabled.body.webhook?.event_id);
    assert.equal(await events(), 1);
  });
});
