import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import { mapLimit } from '../../src/webhooks/map-limit';
import { arrivalLatencies, percentile, startBenchStack } from '../bench-stack';
import type { DrainActivities } from './workflows';

// `npm run bench:delivery-designs`: a design probe for issue 15, not the product. It measures,
// on a private stack, what Temporal and MongoDB cost per webhook in three shapes, from publish to
// receipt at a local receiver (16 concurrent publishers):
//   per delivery      one workflow per (event, endpoint) with one POST activity: today's shape;
//   drainer, signal   one long-lived workflow per endpoint; a publish inserts into the endpoint's
//                     queue and signals it (signalWithStart); a batch activity drains the queue;
//   drainer, coalesced the same, but a process sends at most one wake at a time per endpoint and one
//                     more after it if anything was published meanwhile (so nothing waits).
// Nothing here signs, retries or logs attempts: it is the floor each shape stands on.

const say = (line: string) => console.log(line);
const publishers = 16;

async function main(): Promise<void> {
  const stack = await startBenchStack('designs', say);
  const arrivals = new Map<string, number>();
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      if (typeof id === 'string' && !arrivals.has(id)) arrivals.set(id, performance.now());
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
  const mongo = new MongoClient(stack.env.MONGODB_URL!);
  const queue = mongo.db('designs').collection<{ _id: string; endpoint: string; body: string }>('queue');
  await queue.createIndex({ endpoint: 1 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const post = (target: string, id: string, body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(target, { method: 'POST', agent, headers: { 'webhook-id': id } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end(body);
    });
  const activities: DrainActivities = {
    async drainQueue(endpoint) {
      // Delivered messages leave the queue, so the queue holds only what is pending and the find
      // stays small however much was ever sent.
      const batch = await queue.find({ endpoint }).limit(200).toArray();
      await mapLimit(batch, 16, (doc) => post(endpoint, doc._id, doc.body));
      if (batch.length > 0) await queue.deleteMany({ _id: { $in: batch.map((doc) => doc._id) } });
      return batch.length;
    },
    postOne: (target, id) => post(target, id, '{}'),
  };
  const nativeConnection = await NativeConnection.connect({ address: stack.env.TEMPORAL_ADDRESS! });
  const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS! });
  const client = new Client({ connection });
  const taskQueue = 'delivery-designs';
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities,
  });
  const running = worker.run();

  const drainerId = `drainer-${Date.now()}`;
  const wake = () =>
    client.workflow.signalWithStart('endpointDrainerWorkflow', {
      taskQueue,
      workflowId: drainerId,
      args: [url],
      signal: 'wake',
    });
  // Coalesced wakes: one in flight at a time; anything published meanwhile asks for one more.
  let inFlight: Promise<unknown> | undefined;
  let dirty = false;
  const coalescedWake = () => {
    if (inFlight) {
      dirty = true;
      return;
    }
    inFlight = wake().finally(() => {
      inFlight = undefined;
      if (dirty) {
        dirty = false;
        coalescedWake();
      }
    });
  };

  const scenario = async (name: string, count: number, publish: (id: string) => Promise<void>) => {
    arrivals.clear();
    const sent = new Map<string, number>();
    const started = performance.now();
    const run = Date.now();
    await mapLimit(
      Array.from({ length: count }, (_, i) => `${name.replace(/\W+/g, '_')}_${run}_${i}`),
      publishers,
      async (id) => {
        sent.set(id, performance.now());
        await publish(id);
      },
    );
    while (arrivals.size < count && performance.now() - started < 60_000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const latencies = arrivalLatencies(sent, arrivals);
    const last = Math.max(...arrivals.values());
    say(
      `${name.padEnd(40)} ${String(latencies.length).padStart(6)} ${((latencies.length / (last - started)) * 1000).toFixed(0).padStart(8)}/s  p50 ${percentile(latencies, 50).toFixed(0).padStart(6)} ms  p99 ${percentile(latencies, 99).toFixed(0).padStart(6)} ms`,
    );
  };

  const enqueue = (id: string) => queue.insertOne({ _id: id, endpoint: url, body: '{}' }).then(() => {});
  await scenario('warm-up (drainer, signal)', 200, async (id) => {
    await enqueue(id);
    await wake();
  });
  say(`${'shape'.padEnd(40)} ${'count'.padStart(6)} ${'rate'.padStart(10)}  latency publish → receipt`);
  await scenario('per delivery (workflow + 1 activity)', 300, async (id) => {
    await client.workflow.start('perDeliveryWorkflow', { taskQueue, workflowId: id, args: [url, id] });
  });
  await scenario('drainer, signal per publish', 2_000, async (id) => {
    await enqueue(id);
    await wake();
  });
  await scenario('drainer, coalesced wakes', 2_000, async (id) => {
    await enqueue(id);
    coalescedWake();
  });
  await scenario('bare POST loop (no Temporal, no MongoDB)', 2_000, (id) => post(url, id, '{}'));

  worker.shutdown();
  await running;
  await client.workflow
    .getHandle(drainerId)
    .terminate('probe done')
    .catch(() => {});
  await connection.close();
  await nativeConnection.close();
  await mongo.close();
  agent.destroy();
  receiver.closeAllConnections();
  receiver.close();
  await stack.stop();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error('[probe] failed:', error);
    process.exit(1);
  },
);
