import { setMaxListeners } from 'node:events';
import { DefaultLogger, type NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { Logger } from '../logger';
import { exposeMetrics } from '../metrics';
import type { Services } from '../services';

let runtimeInstalled = false;

/**
 * Routes the SDK's own log lines into our JSON logs (once per process). With `prometheusAddress`
 * (`127.0.0.1:<port>`), the SDK's core also serves its worker metrics there (`temporal_*`: polls,
 * task latencies, slots, sticky cache...), which the worker's /metrics passes on (worker-metrics.ts).
 */
export function installTemporalRuntime(logger: Logger, options: { prometheusAddress?: string } = {}): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
      const method = level === 'ERROR' ? 'error' : level === 'WARN' ? 'warn' : 'info';
      logger[method]({ temporal: meta }, message);
    }),
    ...(options.prometheusAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: options.prometheusAddress } } } }
      : {}),
  });
}

export interface WorkerOptions {
  /** The process's services (src/services.ts); the worker polls their configured task queue. */
  services: Services;
  connection: NativeConnection;
  workflowBundlePath: string;
}

const maxActivities = 500;

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  const { services, connection } = options;
  exposeMetrics('ledger', 'purchases', 'webhooks');
  // The SDK cancels running activities only once the shutdown grace time is over; a webhook drain
  // waiting for work would hold every shutdown that long. This tells it at once.
  const stopping = new AbortController();
  // Every running drain listens to it (up to one per activity slot below), not a leak.
  setMaxListeners(maxActivities + 10, stopping.signal);
  const worker = await Worker.create({
    connection,
    namespace: services.config.TEMPORAL_NAMESPACE,
    taskQueue: services.workflows.taskQueue,
    workflowBundle: { codePath: options.workflowBundlePath },
    activities: createActivities({ ...services, stopping: stopping.signal }),
    // Activities that are running when SIGTERM arrives get this long to finish.
    shutdownGraceTime: '20 seconds',
    // Webhook drains hold a slot while their endpoint is busy (and briefly after): they wait on HTTP
    // and MongoDB, not on this process's CPU, so there is room for many beside the other activities.
    maxConcurrentActivityTaskExecutions: maxActivities,
  });
  // Both ways a worker stops (SIGINT/SIGTERM through the Runtime, or a call) go through this method.
  const shutdown = worker.shutdown.bind(worker);
  worker.shutdown = () => {
    stopping.abort();
    shutdown();
  };
  return worker;
}
