import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { BatchedWriter } from '../../src/mongo/batched-writes';
import { publishEvent } from '../../src/webhooks/publish';
import { findEntry } from '../../src/webhooks/queue';
import { endpointWorkflowId } from '../../workflows/webhook-endpoint/contract';
import { stack } from '../helpers/env';
import { registerPlugin } from '../helpers/plugin-client';
import { type Harness, webhookHarness } from './harness';
import { startReceiver } from './receiver';

// What the per-endpoint engine promises beyond each delivery's outcome: Temporal is told once per
// busy period of an endpoint, not once per webhook; a publisher in another process is found by the
// poll; the host cap holds; concurrent writes are batched, each learning its own fate.

describe('webhook delivery engine', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await webhookHarness();
  });
  after(() => h.stop());

  it('a burst to one endpoint wakes its workflow once or twice, not once per webhook, within the host cap', async () => {
    const site = await startReceiver(() => ({ status: 200, delayMs: 5 }));
    try {
      const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
      const published = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          publishEvent(h.publisher, {
            instance_id: plugin.instance_id,
            event: 'config_updated',
            data: { key: `k${i}` },
          }),
        ),
      );
      await site.waitFor(60, 30_000);
      const ids = new Set(site.received.map((w) => w.headers['webhook-id']));
      assert.equal(ids.size, 60, 'every event arrived');
      for (const p of published) {
        await h.waitForDelivery(`${p.event_id}:default`, (d) => d.status === 'delivered');
        // The queue entry goes last (after the attempt log and the record).
        const deadline = Date.now() + 5_000;
        while ((await findEntry(h.db, `${p.event_id}:default`)) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.equal(await findEntry(h.db, `${p.event_id}:default`), null, 'nothing left queued');
      }
      assert.ok(site.maxInFlight <= h.config.WEBHOOK_MAX_CONCURRENCY_FAST_HOST, `max ${site.maxInFlight}`);

      const handle = h.temporal.client.workflow.getHandle(
        endpointWorkflowId({ instance_id: plugin.instance_id, endpoint_id: 'default' }),
      );
      const history = await handle.fetchHistory();
      const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
      const drains = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length;
      assert.ok(signals >= 1 && signals <= 3, `${signals} signals for 60 webhooks`);
      assert.ok(drains <= 3, `${drains} drains for 60 webhooks`);
    } finally {
      await site.close();
    }
  });

  it('many drains at once in one worker: no listener-leak warning from the shared shutdown signal', async () => {
    // Every running drain listens to the worker's shutdown signal; past 10 Node warned of a leak.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    // One host: its cap keeps most drains waiting for a turn, all of them running at once.
    const site = await startReceiver(() => ({ status: 200, delayMs: 300 }));
    try {
      const plugins = [];
      for (let i = 0; i < 14; i += 1) plugins.push(await registerPlugin(h.apiUrl, { site_url: site.url }));
      await Promise.all(
        plugins.map((plugin) =>
          publishEvent(h.publisher, { instance_id: plugin.instance_id, event: 'config_updated', data: {} }),
        ),
      );
      await site.waitFor(14, 30_000);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      assert.deepEqual(
        warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
        [],
      );
    } finally {
      process.off('warning', onWarning);
      await site.close();
    }
  });

  it('an entry queued by another process (no drain of its own) is found by the poll', async () => {
    const site = await startReceiver();
    const shared = await stack();
    // Another client, so another database handle: this "process" has no drain to hand entries to.
    const other = new MongoClient(shared.config.MONGODB_URL);
    try {
      const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
      const elsewhere = { ...h.publisher, db: other.db(h.db.databaseName) };
      // The first wakes the drain; while it is awake the next ones only insert (the wake is refused).
      await publishEvent(elsewhere, { instance_id: plugin.instance_id, event: 'config_updated', data: {} });
      await site.waitFor(1, 20_000);
      const sentAt = Date.now();
      const later = await publishEvent(elsewhere, {
        instance_id: plugin.instance_id,
        event: 'package_updated',
        data: {},
      });
      const [, arrived] = await site.waitFor(2, 20_000);
      assert.equal(arrived!.headers['webhook-id'], later.event_id);
      assert.ok(arrived!.at - sentAt < 1_000, `arrived after ${arrived!.at - sentAt} ms`);
    } finally {
      await other.close();
      await site.close();
    }
  });

  it('batched writes: one command for concurrent writes, each told done, duplicate or refused', async () => {
    const shared = await stack();
    const client = new MongoClient(shared.config.MONGODB_URL, { monitorCommands: true });
    const commands: string[] = [];
    client.on('commandStarted', (event) => commands.push(event.commandName));
    try {
      const collection = client
        .db(shared.db.databaseName)
        .collection<{ _id: string; n: number }>(`batched_${Date.now()}`);
      await collection.insertOne({ _id: 'taken', n: 0 });
      commands.length = 0;
      const writer = new BatchedWriter(collection);
      const outcomes = await Promise.all([
        writer.insert({ _id: 'a', n: 1 }),
        writer.insert({ _id: 'taken', n: 2 }),
        writer.insert({ _id: 'b', n: 3 }),
        writer.write({ updateOne: { filter: { _id: 'taken' }, update: { $set: { n: 9 } } } }),
      ]);
      assert.deepEqual(outcomes, ['done', 'duplicate', 'done', 'done']);
      assert.deepEqual(
        (await collection.find().sort({ _id: 1 }).toArray()).map((d) => [d._id, d.n]),
        [
          ['a', 1],
          ['b', 3],
          ['taken', 9],
        ],
      );
      await collection.drop();
    } finally {
      await client.close();
    }
    // The first write goes alone; the three queued meanwhile share the next bulk write (which the
    // driver sends as one insert and one update command).
    const writes = commands.filter((c) => c === 'insert' || c === 'update');
    assert.deepEqual(writes, ['insert', 'insert', 'update']);
  });
});
