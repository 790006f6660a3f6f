import assert from 'node:assert/strict';
import { createMongo } from '../../src/mongo/client';
import { ensureIndexes } from '../../src/mongo/collections';
import { assembleServices } from '../../src/services';
import { createWorker } from '../../src/temporal/worker';
import { registerInstance } from '../../src/tenancy/instances';
import { createSecretBox } from '../../src/tenancy/secret-box';
import { findDelivery } from '../../src/webhooks/deliveries';
import { publishEvent, webhookPublisher } from '../../src/webhooks/publish';
import { findEntry } from '../../src/webhooks/queue';
import type { RunningServer } from '../../tools/stack/servers';
import { stack, testConfig, uniqueTaskQueue } from '../helpers/env';
import { privateMongo } from '../helpers/private-mongo';
import { startReceiver } from './receiver';

// MongoDB gone while a webhook is on the wire: the receiver answers, the drain cannot write that
// down, its activity fails and runs again once MongoDB is back, and the delivery is sent again with
// the same webhook-id and recorded as delivered. A private MongoDB-wire server (its journal survives
// the kill), so the other suites keep theirs.

describe('webhook delivery across a MongoDB outage', function () {
  this.timeout(120_000);

  it('an attempt answered while MongoDB is down is sent again when it is back, same id, then recorded', async () => {
    const shared = await stack();
    const privateDb = await privateMongo();
    const startDb = privateDb.start;
    let mongoServer: RunningServer | undefined = await startDb();
    const config = testConfig({
      MONGODB_URL: privateDb.url,
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('wh-mongo'),
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    const mongo = createMongo(config);
    // The first attempt is answered 3 s late: MongoDB is killed meanwhile.
    const site = await startReceiver((_webhook, index) => ({
      status: 200,
      delayMs: index === 0 ? 3_000 : 0,
    }));
    const services = assembleServices({
      config,
      logger: shared.logger,
      db: mongo.db,
      temporal: shared.temporal,
    });
    const worker = await createWorker({
      services,
      connection: shared.nativeConnection,
      workflowBundlePath: process.env.TEST_WORKFLOW_BUNDLE!,
    });
    const running = worker.run();
    try {
      await ensureIndexes(mongo.db);
      await registerInstance(
        mongo.db,
        createSecretBox(undefined),
        {
          instance_id: 'outage-site',
          site_url: site.url,
          admin_email: 'a@example.jp',
        },
        { mode: 'open' },
      );
      const published = await publishEvent(webhookPublisher(services), {
        instance_id: 'outage-site',
        event: 'config_updated',
        data: { key: 'openai' },
      });
      await site.waitFor(1, 20_000);
      await mongoServer.kill();
      mongoServer = undefined;
      await new Promise((resolve) => setTimeout(resolve, 8_000));
      mongoServer = await startDb();

      const [first, second] = await site.waitFor(2, 60_000);
      assert.equal(first!.headers['webhook-id'], published.event_id);
      assert.equal(second!.headers['webhook-id'], published.event_id);
      assert.equal(second!.body, first!.body, 'byte-identical');
      const id = `${published.event_id}:default`;
      const deadline = Date.now() + 20_000;
      let delivery = await findDelivery(mongo.db, id);
      while ((delivery?.status !== 'delivered' || (await findEntry(mongo.db, id))) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        delivery = await findDelivery(mongo.db, id);
      }
      assert.equal(delivery?.status, 'delivered');
      assert.equal(await findEntry(mongo.db, id), null, 'nothing left queued');
    } finally {
      worker.shutdown();
      await running;
      await site.close();
      await mongo.client.close();
      await mongoServer?.stop();
    }
  });
});
