import { once } from 'node:events';
import { loadConfigOrExit } from '../config';
import { createLogger } from '../logger';
import { pruneExpired } from '../mongo/collections';
import { buildApiApp } from './api-app';
import { onShutdownSignal } from './shutdown';

// The API process: stateless, so any number of them can run behind a load balancer.
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'api' });
  const { app, mongo, close } = await buildApiApp(config, logger);
  const server = app.listen(config.PORT, config.HOST);
  await once(server, 'listening');
  logger.info(
    { url: `http://${config.HOST}:${config.PORT}`, public_url: config.PUBLIC_BASE_URL },
    'API listening',
  );

  // The local server accepts TTL indexes but never deletes: expired documents are deleted here.
  const pruner = setInterval(() => {
    pruneExpired(mongo.db).catch((error) => logger.warn({ err: error }, 'pruning expired documents failed'));
  }, 10 * 60_000);
  pruner.unref();

  onShutdownSignal(logger, async () => {
    clearInterval(pruner);
    // In-flight requests finish; idle keep-alive sockets are closed so close() can return.
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    await closed;
    await close();
    logger.info('API stopped');
  });
}

main().catch((error) => {
  console.error('API failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
