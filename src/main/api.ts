import { once } from 'node:events';
import { loadConfigOrExit } from '../config';
import { createApp } from '../http/app';
import { createLogger } from '../logger';
import { createMongo } from '../mongo/client';
import { ensureIndexes } from '../mongo/collections';
import { packageStore } from '../packages/store';
import { createTemporal } from '../temporal/client';
import { onShutdownSignal } from './shutdown';

// The API process: stateless, so any number of them can run behind a load balancer.
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'api' });
  const mongo = createMongo(config);
  const temporal = createTemporal(config);
  await ensureIndexes(mongo.db);
  await packageStore(mongo.db).seed(config.CREDIT_TYPES);

  const app = createApp({ config, logger, db: mongo.db, temporal });
  const server = app.listen(config.PORT, config.HOST);
  await once(server, 'listening');
  logger.info(
    { url: `http://${config.HOST}:${config.PORT}`, public_url: config.PUBLIC_BASE_URL },
    'API listening',
  );

  onShutdownSignal(logger, async () => {
    // In-flight requests finish; idle keep-alive sockets are closed so close() can return.
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    await closed;
    await temporal.connection.close();
    await mongo.client.close();
    logger.info('API stopped');
  });
}

main().catch((error) => {
  console.error('API failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
