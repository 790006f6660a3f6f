import { once } from 'node:events';
import { loadConfigOrExit } from '../config';
import { createApp } from '../http/app';
import { createLogger } from '../logger';
import { createMongo } from '../mongo/client';
import { ensureIndexes, pruneExpired } from '../mongo/collections';
import { packageStore } from '../packages/store';
import { stripeGatewayFromConfig } from '../stripe/gateway';
import { createTemporal } from '../temporal/client';
import { createSecretBox } from '../tenancy/secret-box';
import { onShutdownSignal } from './shutdown';

// The API process: stateless, so any number of them can run behind a load balancer.
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'api' });
  const mongo = createMongo(config);
  const temporal = createTemporal(config);
  await ensureIndexes(mongo.db);
  await packageStore(mongo.db).seed(config.CREDIT_TYPES);

  const secretBox = createSecretBox(config.WEBHOOK_SECRET_ENCRYPTION_KEY);
  if (!secretBox.encrypting) {
    logger.warn('WEBHOOK_SECRET_ENCRYPTION_KEY is not set: webhook secrets are stored unencrypted');
  }
  const stripe = stripeGatewayFromConfig(config);
  if (!stripe) logger.warn('STRIPE_SECRET_KEY is not set: purchases answer 500 payment_not_configured');
  const app = createApp({ config, logger, db: mongo.db, temporal, secretBox, stripe });
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
    await temporal.connection.close();
    await mongo.client.close();
    logger.info('API stopped');
  });
}

main().catch((error) => {
  console.error('API failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
