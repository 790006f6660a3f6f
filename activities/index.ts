import type { Db } from 'mongodb';
import type { Config } from '../src/config';
import { ledgerFromConfig } from '../src/ledger/from-config';
import type { Logger } from '../src/logger';
import { stripeGatewayFromConfig } from '../src/stripe/gateway';
import type { Temporal } from '../src/temporal/client';
import { createDiagnosticActivities } from './diagnostics';
import { createLedgerActivities } from './ledger';
import { type CreditsUpdatedInput, createPurchaseActivities } from './purchases';
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
  // Runs inside the purchase's notify activity, so the event key below keeps retries to one event.
  const publishCreditsUpdated = async (update: CreditsUpdatedInput) => {
    const { instance_id, purchase_id, balances, ...rest } = update;
    await webhooks.publishWebhookEvent({
      instance_id,
      event: 'credits_updated',
      data: { ...rest, credits: balances, purchase_id },
      idempotency_key: `credits_updated:${purchase_id}:${update.ledger_seq}`,
    });
  };
  return {
    ...createDiagnosticActivities(),
    ...createLedgerActivities({ ledger }),
    ...webhooks,
    ...createPurchaseActivities({
      db: deps.db,
      ledger,
      stripe,
      publishCreditsUpdated,
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
