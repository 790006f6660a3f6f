import type { Db } from 'mongodb';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { WorkflowStarter } from '../temporal/starter';
import { grantExpiryScheduler } from './expiry-scheduler';
import { createLedger, type Ledger } from './ledger';

/** The ledger as the API and the worker run it: configured credit types and welcome grants, expiries on Temporal. */
export function ledgerFromConfig(deps: {
  config: Config;
  db: Db;
  logger: Logger;
  /** Without it the ledger cannot make expiring grants (tests of the ledger alone). */
  workflows?: WorkflowStarter;
}): Ledger {
  const { config } = deps;
  return createLedger({
    db: deps.db,
    creditTypes: config.CREDIT_TYPES,
    welcomeCredits: config.WELCOME_CREDITS,
    ...(config.WELCOME_CREDITS_EXPIRE_DAYS
      ? { welcomeExpiresInDays: config.WELCOME_CREDITS_EXPIRE_DAYS }
      : {}),
    ...(deps.workflows ? { onExpiringGrant: grantExpiryScheduler(deps.workflows) } : {}),
    logger: deps.logger,
  });
}
