import type { CreditsUpdate } from '../src/webhooks/credits-updated';
import type { ActivityDeps } from './deps';
import { createDiagnosticActivities } from './diagnostics';
import { createLedgerActivities } from './ledger';
import { createMaintenanceActivities } from './maintenance';
import { createPurchaseActivities } from './purchases';
import { createReconciliationActivities } from './reconciliation';
import { createWebhookActivities } from './webhooks';

export type { ActivityDeps };

export function createActivities(deps: ActivityDeps) {
  const webhooks = createWebhookActivities(deps);
  const publishCreditsUpdated = (update: CreditsUpdate) => webhooks.publishCreditsUpdated(update);
  return {
    ...createDiagnosticActivities(),
    ...createLedgerActivities({ ledger: deps.ledger, publishCreditsUpdated }),
    ...webhooks,
    ...createPurchaseActivities({ ...deps, publishCreditsUpdated }),
    ...createMaintenanceActivities(deps),
    ...createReconciliationActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
