import { NativeConnection } from '@temporalio/worker';
import { loadConfigOrExit } from '../config';
import { createLogger } from '../logger';
import { openServices } from '../services';
import { ensureMaintenanceSchedule, ensureReconciliationSchedule } from '../temporal/schedules';
import { createWorker, installTemporalRuntime } from '../temporal/worker';
import { freeLoopbackPort, startWorkerMetrics } from '../temporal/worker-metrics';
import { ensureWorkflowBundle } from '../temporal/workflow-bundle';

async function connectWithRetry(address: string, log: (attempt: number) => void): Promise<NativeConnection> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await NativeConnection.connect({ address });
    } catch {
      log(attempt);
      await new Promise((resolve) => setTimeout(resolve, Math.min(attempt, 10) * 1_000));
    }
  }
}

// The worker process: runs workflows and activities. Scale by starting more on the same task queue.
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'worker' });
  // The SDK's worker metrics go to a loopback port; our /metrics reads them there and passes them on.
  const prometheusAddress = config.WORKER_METRICS_PORT ? `127.0.0.1:${await freeLoopbackPort()}` : undefined;
  installTemporalRuntime(logger, { prometheusAddress }); // also makes SIGINT/SIGTERM shut the worker down gracefully
  const metrics = config.WORKER_METRICS_PORT
    ? await startWorkerMetrics({
        config,
        port: config.WORKER_METRICS_PORT,
        logger,
        sdkMetricsAddress: prometheusAddress,
      })
    : undefined;
  // Temporal is lazy in the services: activities that start workflows connect when they need to.
  const { services, close } = await openServices(config, logger);
  const workflowBundlePath = await ensureWorkflowBundle((line) => logger.info(line));
  const connection = await connectWithRetry(config.TEMPORAL_ADDRESS, (attempt) =>
    logger.warn({ address: config.TEMPORAL_ADDRESS, attempt }, 'Temporal not reachable yet; retrying'),
  );
  const worker = await createWorker({ services, connection, workflowBundlePath });
  await ensureMaintenanceSchedule(services.workflows, logger);
  if (config.STRIPE_SECRET_KEY) {
    await ensureReconciliationSchedule(services.workflows, {
      everySeconds: config.RECONCILE_INTERVAL_SECONDS,
      logger,
    });
  }
  logger.info(
    { task_queue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE },
    'worker polling task queue',
  );
  await worker.run(); // resolves after a shutdown signal, once in-flight activities are done
  await metrics?.close();
  await connection.close();
  await close();
  logger.info('worker stopped');
}

main().catch((error) => {
  console.error('worker failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
