import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createLedger } from '../src/ledger/ledger';
import { collectionNames } from '../src/mongo/collections';
import { ensureDelivery, webhookDeliveries } from '../src/webhooks/deliveries';
import { storeEvent } from '../src/webhooks/events';
import { maintenanceSweepWorkflow } from '../workflows';
import { stack, startTestApi, startTestWorker, uniqueTaskQueue } from './helpers/env';
import { registerPlugin } from './helpers/plugin-client';
import { startReceiver } from './webhooks/receiver';

// Work whose workflow start was lost (a crash between the write and the start) is picked up by the
// maintenance sweep that a Temporal Schedule runs every five minutes.

describe('maintenance sweep', function () {
  this.timeout(60_000);

  it('starts a webhook delivery left pending without a workflow, and an expiring grant without its timer', async () => {
    const { db, temporal } = await stack();
    const taskQueue = uniqueTaskQueue('maintenance');
    const worker = await startTestWorker(taskQueue, { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    const api = await startTestApi();
    const site = await startReceiver();
    try {
      // A credits_updated event stored with its delivery, as publishEvent does, but never started.
      const plugin = await registerPlugin(api.url, { site_url: site.url });
      const { event } = await storeEvent(db, {
        instance_id: plugin.instance_id,
        event_type: 'credits_updated',
        data: { user_id: '1', credits: { article: 1 }, delta: 1, reason: 'test', ledger_seq: 1 },
      });
      const { delivery } = await ensureDelivery(db, event, 'default', { status: 'pending' });
      await webhookDeliveries(db).updateOne({ _id: delivery.delivery_id } as never, {
        $set: { updated_at: new Date(Date.now() - 10 * 60_000) },
      });

      // An expiring grant whose timer start was lost (the scheduler here does nothing).
      const ledger = createLedger({ db, creditTypes: ['article'], onExpiringGrant: async () => {} });
      const account = { instance_id: plugin.instance_id, user_id: `u-${randomUUID()}` };
      const grant = await ledger.grant({
        ...account,
        credit_type: 'article',
        amount: 4,
        expires_at: new Date(Date.now() + 1_500),
      });

      const result = await temporal.client.workflow.execute(maintenanceSweepWorkflow, {
        taskQueue,
        workflowId: `maintenance-test-${randomUUID()}`,
      });
      assert.ok(result.deliveries_restarted >= 1);
      assert.ok(result.grants_checked >= 1);

      const [webhook] = await site.waitFor(1, 30_000, (w) => w.json?.id === event.event_id);
      assert.equal(webhook!.json.event, 'credits_updated');

      const deadline = Date.now() + 30_000;
      let expired = null;
      while (!expired && Date.now() < deadline) {
        expired = await db
          .collection(collectionNames.ledgerEntries)
          .findOne({ kind: 'expire', ref: grant.entry.transaction_id });
        if (!expired) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.ok(expired, 'the grant expired through the timer the sweep started');
      assert.equal(expired.delta, -4);
    } finally {
      await site.close();
      await api.stop();
      await worker.stop();
    }
  });
});
