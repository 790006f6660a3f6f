import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/http/app';
import { createLogger } from '../src/logger';
import { createMongo } from '../src/mongo/client';
import { assembleServices } from '../src/services';
import { pingWorkflow } from '../workflows';
import { stack, startTestApi, startTestWorker, testConfig, uniqueTaskQueue } from './helpers/env';

describe('local stack', () => {
  it('runs a workflow through the real Temporal server and a real worker', async () => {
    const { temporal } = await stack();
    const taskQueue = uniqueTaskQueue('stack');
    const worker = await startTestWorker(taskQueue);
    try {
      const result = await temporal.client.workflow.execute(pingWorkflow, {
        taskQueue,
        workflowId: `ping-${randomUUID()}`,
        args: ['hello'],
      });
      assert.equal(result.message, 'pong: hello');
      assert.match(result.worker, /:\d+$/);
    } finally {
      await worker.stop();
    }
  });

  it('writes and reads a document through the real MongoDB-wire server', async () => {
    const { db } = await stack();
    const collection = db.collection<{ _id: string; amount: number; tags: string[] }>('stack_check');
    const id = randomUUID();
    await collection.insertOne({ _id: id, amount: 750, tags: ['jpy'] });
    const found = await collection.findOne({ _id: id });
    assert.deepEqual(found, { _id: id, amount: 750, tags: ['jpy'] });
    // The server really speaks the wire protocol: a duplicate _id is refused.
    await assert.rejects(collection.insertOne({ _id: id, amount: 1, tags: [] }), /duplicate key/i);
  });

  it('GET /health reports both dependencies ok', async () => {
    const api = await startTestApi();
    try {
      const response = await fetch(`${api.url}/health`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { success: true, status: 'ok', temporal: 'ok', mongodb: 'ok' });
    } finally {
      await api.stop();
    }
  });

  it('GET /health is 503 naming what is down', async () => {
    const { temporal } = await stack();
    const deadMongo = createMongo({ MONGODB_URL: 'mongodb://127.0.0.1:1', MONGODB_DATABASE: 'none' });
    const app = createApp(
      assembleServices({
        config: testConfig(),
        logger: createLogger({ level: 'silent', name: 't' }),
        db: deadMongo.db,
        temporal,
        stripe: undefined,
      }),
    );
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(response.status, 503);
      const body = await response.json();
      assert.equal(body.success, false);
      assert.equal(body.error, 'unavailable');
      assert.equal(body.temporal, 'ok');
      assert.equal(body.mongodb, 'down');
    } finally {
      server.close();
      await deadMongo.client.close();
    }
  });
});
