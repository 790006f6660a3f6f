import type { Db } from 'mongodb';
import type { Config } from '../src/config';
import { ledgerFromConfig } from '../src/ledger/from-config';
import type { Logger } from '../src/logger';
import { stripeGatewayFromConfig } from '../src/stripe/gateway';
import type { Temporal } from '../src/temporal/client';
import { createDiagnosticActivities } from './diagnostics';
import { createLedgerActivities } from './ledger';
import { createPurchaseActivities } from './purchases';
import { createReconciliationActivities } from './reconciliation';

/** What activities need from the outside world; tests hand in the real ones wired to the local stack. */
export interface ActivityDeps {
  config: Config;
  db: Db;
  logger: Logger;
  /** A client, for activities whose work starts or signals workflows (expiry timers, reconciliation). */
  temporal: Temporal;
}

export function createActivities(deps: ActivityDeps) {
  const ledger = ledgerFromConfig(deps);
  const stripe = stripeGatewayFromConfig(deps.config);
  return {
    ...createDiagnosticActivities(),
    ...createLedgerActivities({ ledger }),
    ...createPurchaseActivities({
      db: deps.db,
      ledger,
      stripe,
      publishCreditsUpdated: async (update) => {
        deps.logger.info({ update }, 'credits_updated');
      },
    }),
    ...createReconciliationActivities({
      db: deps.db,
      stripe,
      temporal: deps.temporal.client,
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
