import type { Config } from '../config';
import { createApp } from '../http/app';
import type { Logger } from '../logger';
import { createMongo } from '../mongo/client';
import { ensureIndexes } from '../mongo/collections';
import { packageStore } from '../packages/store';
import { stripeGatewayFromConfig } from '../stripe/gateway';
import { createTemporal } from '../temporal/client';
import { createSecretBox } from '../tenancy/secret-box';

/** The API's app and the connections it holds, as the API process runs it (and bench:http measures it). */
export async function buildApiApp(config: Config, logger: Logger) {
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
  return { app, mongo, temporal };
}
