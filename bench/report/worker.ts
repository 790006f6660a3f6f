import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfigOrExit } from '../../src/config';
import { createLogger } from '../../src/logger';
import { openServices } from '../../src/services';
import { createWorker, installTemporalRuntime } from '../../src/temporal/worker';
import { ensureWorkflowBundle } from '../../src/temporal/workflow-bundle';
import { countCommands } from '../command-counter';
import { type BareSteps, bareFulfilmentTaskQueue } from './bare-fulfilment-workflow';

// The worker process of `npm run bench`: the product's worker as src/main/worker.ts makes it (same
// services, same bundle; no schedules, which would add work the bench does not measure), plus a
// worker on a second task queue for the bare fulfilment workflow, whose activities do nothing. It
// tells its parent (IPC) how many database commands its MongoDB client has issued when asked.

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'bench-worker' });
  installTemporalRuntime(logger);
  const { services, mongo, close } = await openServices(config, logger);
  const counter = countCommands(mongo.client);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const workflowBundlePath = await ensureWorkflowBundle((line) => logger.info(line));
  const product = await createWorker({ services, connection, workflowBundlePath });
  const noOp: BareSteps = { step: async () => {} };
  const bare = await Worker.create({
    connection,
    taskQueue: bareFulfilmentTaskQueue,
    workflowsPath: require.resolve('./bare-fulfilment-workflow'),
    activities: noOp,
  });
  process.on('message', (message: { ask?: string }) => {
    if (message.ask === 'commands') process.send?.({ commands: counter.snapshot() });
  });
  process.on('disconnect', () => {
    product.shutdown();
    bare.shutdown();
  });
  const running = Promise.all([product.run(), bare.run()]);
  process.send?.({ ready: true });
  await running;
  await connection.close();
  await close();
}

main().catch((error) => {
  console.error('bench worker failed:', error instanceof Error ? error.stack : error);
  process.exit(1);
});
