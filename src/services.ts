import type { Db } from 'mongodb';
import type { Config } from './config';
import { ledgerFromConfig } from './ledger/from-config';
import type { Ledger } from './ledger/ledger';
import type { Logger } from './logger';
import { createMongo, type Mongo } from './mongo/client';
import { ensureIndexes } from './mongo/collections';
import { packageStore } from './packages/store';
import { type StripeGateway, stripeGatewayFromConfig } from './stripe/gateway';
import { createTemporal, type Temporal } from './temporal/client';
import { type WorkflowStarter, workflowStarter } from './temporal/starter';
import { createSecretBox, type SecretBox } from './tenancy/secret-box';

// The one composition root: the API process, the worker process and the test harnesses get their
// collaborators here, so both processes run the same ledger, Stripe gateway and workflow starter.

export interface Services {
  config: Config;
  logger: Logger;
  db: Db;
  temporal: Temporal;
  /** Starts and signals workflows on the configured task queue. */
  workflows: WorkflowStarter;
  secretBox: SecretBox;
  /** Undefined without STRIPE_SECRET_KEY: purchases then answer 500 payment_not_configured. */
  stripe: StripeGateway | undefined;
  ledger: Ledger;
}

export interface ServiceParts {
  config: Config;
  logger: Logger;
  db: Db;
  temporal: Temporal;
  /** Replaces the gateway the config would make (tests that run without Stripe). */
  stripe?: StripeGateway | undefined;
}

/** Builds the services from open connections (no I/O). */
export function assembleServices(parts: ServiceParts): Services {
  const { config, logger, db } = parts;
  const workflows = workflowStarter(parts.temporal.client, config);
  return {
    config,
    logger,
    db,
    temporal: parts.temporal,
    workflows,
    secretBox: createSecretBox(config.WEBHOOK_SECRET_ENCRYPTION_KEY),
    stripe: 'stripe' in parts ? parts.stripe : stripeGatewayFromConfig(config),
    ledger: ledgerFromConfig({ config, logger, db, workflows }),
  };
}

/**
 * Opens MongoDB (indexes ensured, default packages seeded) and a lazy Temporal connection, and
 * assembles the services of a process. `close()` ends both connections.
 */
export async function openServices(
  config: Config,
  logger: Logger,
): Promise<{ services: Services; mongo: Mongo; close(): Promise<void> }> {
  const mongo = createMongo(config);
  const temporal = createTemporal(config);
  await ensureIndexes(mongo.db);
  await packageStore(mongo.db).seed(config.CREDIT_TYPES);
  const services = assembleServices({ config, logger, db: mongo.db, temporal });
  if (!services.secretBox.encrypting) {
    logger.warn('WEBHOOK_SECRET_ENCRYPTION_KEY is not set: webhook secrets are stored unencrypted');
  }
  if (!services.stripe)
    logger.warn('STRIPE_SECRET_KEY is not set: purchases answer 500 payment_not_configured');
  return {
    services,
    mongo,
    async close() {
      await temporal.connection.close();
      await mongo.client.close();
    },
  };
}
