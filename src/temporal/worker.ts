import { DefaultLogger, type NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Db } from 'mongodb';
import { createActivities } from '../../activities';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Temporal } from './client';

let runtimeInstalled = false;

/** Routes the SDK's own log lines into our JSON logs (once per process). */
export function installTemporalRuntime(logger: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
      const method = level === 'ERROR' ? 'error' : level === 'WARN' ? 'warn' : 'info';
      logger[method]({ temporal: meta }, message);
    }),
  });
}

export interface WorkerOptions {
  config: Config;
  logger: Logger;
  db: Db;
  connection: NativeConnection;
  workflowBundlePath: string;
  /** Overrides the configured queue (tests give each suite its own). */
  taskQueue?: string;
  /** A client for activities that start workflows (see ActivityDeps). */
  temporal: Temporal;
}

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  const { config, logger, db, connection } = options;
  // The SDK cancels running activities only once the shutdown grace time is over; a webhook drain
  // waiting for work would hold every shutdown that long. This tells it at once.
  const stopping = new AbortController();
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: options.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    workflowBundle: { codePath: options.workflowBundlePath },
    activities: createActivities({
      config,
      db,
      logger,
      temporal: options.temporal,
      stopping: stopping.signal,
    }),
    // Activities that are running when SIGTERM arrives get this long to finish.
    shutdownGraceTime: '20 seconds',
    // Webhook drains hold a slot while their endpoint is busy (and briefly after): they wait on HTTP
    // and MongoDB, not on this process's CPU, so there is room for many beside the other activities.
    maxConcurrentActivityTaskExecutions: 500,
  });
  // Both ways a worker stops (SIGINT/SIGTERM through the Runtime, or a call) go through this method.
  const shutdown = worker.shutdown.bind(worker);
  worker.shutdown = () => {
    stopping.abort();
    shutdown();
  };
  return worker;
}
