import type { Db } from 'mongodb';
import type { Config } from '../src/config';
import { ledgerFromConfig } from '../src/ledger/from-config';
import type { Logger } from '../src/logger';
import { stripeGatewayFromConfig } from '../src/stripe/gateway';
import type { Temporal } from '../src/temporal/client';
import { createDiagnosticActivities } from './diagnostics';
import { type CreditsUpdate, createLedgerActivities } from './ledger';
import { createMaintenanceActivities } from './maintenance';
import { createPurchaseActivities } from './purchases';
import { createReconciliationActivities } from './reconciliation';
import { createWebhookActivities } from './webhooks';

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
  const webhooks = createWebhookActivities(deps);
  // Keyed by the account's ledger position: however often an activity retries, one event.
  const publishCreditsUpdated = async (update: CreditsUpdate) => {
    const { instance_id, balances, ...rest } = update;
    await webhooks.publishWebhookEvent({
      instance_id,
      event: 'credits_updated',
      data: { ...rest, user_email: update.user_email ?? null, credits: balances },
      idempotency_key: `credits_updated:${instance_id}:${update.user_id}:${update.ledger_seq}`,
    });
  };
  return {
    ...createDiagnosticActivities(),
    ...createLedgerActivities({ ledger, publishCreditsUpdated }),
    ...webhooks,
    ...createPurchaseActivities({
      db: deps.db,
      ledger,
      stripe,
      publishCreditsUpdated,
    }),
    ...createMaintenanceActivities({ db: deps.db, temporal: deps.temporal.client, config: deps.config }),
    ...createReconciliationActivities({
      db: deps.db,
      stripe,
      temporal: deps.temporal.client,
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
