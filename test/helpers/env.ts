import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Db, MongoClient } from 'mongodb';
import { type Config, loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { createLogger, type Logger } from '../../src/logger';
import { createMongo } from '../../src/mongo/client';
import { ensureIndexes } from '../../src/mongo/collections';
import { packageStore } from '../../src/packages/store';
import { assembleServices } from '../../src/services';
import type { Temporal } from '../../src/temporal/client';
import { createWorker, installTemporalRuntime } from '../../src/temporal/worker';

// Shared handles on the stack that test/run.ts started. Each suite that runs workflows gets its own
// task queue, so suites cannot pick up each other's work.

interface Shared {
  config: Config;
  logger: Logger;
  mongoClient: MongoClient;
  db: Db;
  temporal: Temporal;
  nativeConnection: NativeConnection;
}

let shared: Promise<Shared> | undefined;

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...process.env, ...overrides });
}

export function stack(): Promise<Shared> {
  shared ??= (async () => {
    const config = testConfig();
    const logger = createLogger({ level: config.LOG_LEVEL, name: 'test' });
    installTemporalRuntime(logger);
    const mongo = createMongo(config);
    await ensureIndexes(mongo.db);
    await packageStore(mongo.db).seed(config.CREDIT_TYPES);
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const nativeConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    return {
      config,
      logger,
      mongoClient: mongo.client,
      db: mongo.db,
      temporal: { connection, client },
      nativeConnection,
    };
  })();
  return shared;
}

export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A real worker on its own task queue, running until `stop()`. */
export async function startTestWorker(taskQueue: string, configOverrides: Record<string, string> = {}) {
  const { logger, db, nativeConnection, temporal } = await stack();
  const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, ...configOverrides });
  const worker: Worker = await createWorker({
    services: assembleServices({ config, logger, db, temporal }),
    connection: nativeConnection,
    workflowBundlePath: process.env.TEST_WORKFLOW_BUNDLE!,
  });
  const running = worker.run();
  return {
    worker,
    config,
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

/**
 * The real Koa app on a free port, with the shared Temporal handle and the shared database, or a
 * database of its own when the overrides name another MONGODB_URL.
 */
export async function startTestApi(
  configOverrides: Record<string, string> = {},
  options: { port?: number } = {},
) {
  const shared = await stack();
  const { logger, temporal } = shared;
  const config = testConfig(configOverrides);
  const own = configOverrides.MONGODB_URL ? createMongo(config) : undefined;
  const db = own?.db ?? shared.db;
  if (own) {
    await ensureIndexes(db);
    await packageStore(db).seed(config.CREDIT_TYPES);
  }
  const app = createApp(assembleServices({ config, logger, db, temporal }));
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(listening));
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    config,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await own?.client.close();
    },
  };
}
