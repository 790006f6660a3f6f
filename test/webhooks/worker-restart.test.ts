import assert from 'node:assert/strict';
import { publishEvent } from '../../src/webhooks/publish';
import { registerPlugin } from '../helpers/plugin-client';
import { creditsData, type Harness, quickSchedule, webhookHarness } from './harness';
import { startReceiver } from './receiver';

describe('webhook delivery across a worker restart', function () {
  this.timeout(150_000);
  let h: Harness;
  before(async () => {
    h = await webhookHarness();
  });
  after(() => h.stop());

  it('a worker shut down while the receiver holds the request: the next worker delivers, same id', async () => {
    const site = await startReceiver((_webhook, index) => (index === 0 ? 'hold' : { status: 200 }));
    try {
      const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
      const published = await publishEvent(h.publisher, {
        instance_id: plugin.instance_id,
        event: 'credits_updated',
        data: creditsData({ user_id: 3, ledger_seq: 9 }),
        schedule: quickSchedule(500, 10 * 60_000),
      });
      await site.waitFor(1);
      // The worker waits for the held attempt (its shutdown grace time), then cancels it and exits.
      await h.stopWorker();
      await h.startWorker();
      const [first, second] = await site.waitFor(2, 90_000);
      assert.equal(second!.headers['webhook-id'], published.event_id);
      assert.equal(second!.body, first!.body);
      const delivery = await h.waitForDelivery(
        `${published.event_id}:default`,
        (d) => d.status === 'delivered',
      );
      assert.ok(delivery.attempts >= 1);
    } finally {
      await site.close();
    }
  });
});
