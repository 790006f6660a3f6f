import type { Db } from 'mongodb';
import type { Config } from '../src/config';
import { ledgerFromConfig } from '../src/ledger/from-config';
import type { Logger } from '../src/logger';
import { stripeGatewayFromConfig } from '../src/stripe/gateway';
import type { Temporal } from '../src/temporal/client';
import { creditsUpdatedEvent } from '../src/webhooks/credits-updated';
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
  /** Aborted when the worker begins to shut down: long activities (webhook drains) hand back. */
  stopping?: AbortSignal;
}

export function createActivities(deps: ActivityDeps) {
  const ledger = ledgerFromConfig(deps);
  const stripe = stripeGatewayFromConfig(deps.config);
  const webhooks = createWebhookActivities(deps);
  const publishCreditsUpdated = async (update: CreditsUpdate) => {
    const event = creditsUpdatedEvent(update);
    if (!event) {
      deps.logger.warn(
        { instance_id: update.instance_id, user_id: update.user_id, ledger_seq: update.ledger_seq },
        'credits_updated not sent: no email is known for this user',
      );
      return;
    }
    await webhooks.publishWebhookEvent(event);
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
