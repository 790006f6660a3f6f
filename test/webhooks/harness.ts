import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import type { Db } from 'mongodb';
import { createApp } from '../../src/http/app';
import { ensureIndexes } from '../../src/mongo/collections';
import { assembleServices } from '../../src/services';
import { createWorker } from '../../src/temporal/worker';
import { findDelivery, type WebhookDeliveryDoc } from '../../src/webhooks/deliveries';
import { type WebhookPublisherDeps, webhookPublisher } from '../../src/webhooks/publish';
import type { RetrySchedule } from '../../src/webhooks/retry-schedule';
import { stack, testConfig, uniqueTaskQueue } from '../helpers/env';

// A worker and an API on one task queue, for webhook suites. Receivers are on loopback, so private
// networks are allowed unless a suite says otherwise. `isolatedDb` gives the suite a database of its
// own (broadcasts to "every instance" must not reach other suites' instances).

export interface HarnessOptions {
  config?: Record<string, string>;
  isolatedDb?: boolean;
}

export async function webhookHarness(options: HarnessOptions = {}) {
  const shared = await stack();
  const db: Db = options.isolatedDb
    ? shared.mongoClient.db(`rakubun_wh_${randomUUID().slice(0, 8)}`)
    : shared.db;
  if (options.isolatedDb) await ensureIndexes(db);
  const taskQueue = uniqueTaskQueue('webhooks');
  const config = testConfig({
    TEMPORAL_TASK_QUEUE: taskQueue,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    ...options.config,
  });

  const services = assembleServices({
    config,
    logger: shared.logger,
    db,
    temporal: shared.temporal,
    stripe: undefined,
  });
  let worker: { worker: Worker; running: Promise<void> } | undefined;
  const startWorker = async () => {
    const created = await createWorker({
      services,
      connection: shared.nativeConnection,
      workflowBundlePath: process.env.TEST_WORKFLOW_BUNDLE!,
    });
    worker = { worker: created, running: created.run() };
  };
  const stopWorker = async () => {
    if (!worker) return;
    const current = worker;
    worker = undefined;
    current.worker.shutdown();
    await current.running;
  };
  await startWorker();

  const app = createApp(services);
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const publisher: WebhookPublisherDeps = webhookPublisher(services);

  return {
    db,
    config,
    taskQueue,
    apiUrl,
    publisher,
    temporal: shared.temporal,
    startWorker,
    stopWorker,
    /** Polls the delivery record until `predicate` holds. */
    async waitForDelivery(
      deliveryId: string,
      predicate: (delivery: WebhookDeliveryDoc) => boolean,
      timeoutMs = 20_000,
    ): Promise<WebhookDeliveryDoc> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const delivery = await findDelivery(db, deliveryId);
        if (delivery && predicate(delivery)) return delivery;
        if (Date.now() > deadline) {
          throw new Error(`delivery ${deliveryId} did not get there: ${JSON.stringify(delivery)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await stopWorker();
      if (options.isolatedDb) await db.dropDatabase();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof webhookHarness>>;

/** Retries every `stepMs` (jittered ±10 %) for `windowMs`: a test-sized version of the real schedule. */
export function quickSchedule(stepMs: number, windowMs: number): RetrySchedule {
  return { retry_delays_ms: [stepMs], window_ms: windowMs, jitter: 0.1, on_exhausted: 'dead_letter' };
}

export const adminToken = () => process.env.ADMIN_API_TOKEN!;

/** A whole credits_updated `data`, as the catalogue wants it (publishing checks it). */
export function creditsData(overrides: Record<string, unknown> = {}) {
  return {
    user_id: 7,
    user_email: 'user@example.jp',
    credits: { article_credits: 0 },
    delta: 1,
    reason: 'test',
    ledger_seq: 1,
    ...overrides,
  };
}
