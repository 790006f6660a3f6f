import type { Db } from 'mongodb';
import { purchases } from '../src/purchases/store';
import { signalPurchase } from '../src/purchases/workflow-client';
import type { StripeGateway } from '../src/stripe/gateway';
import type { WorkflowStarter } from '../src/temporal/starter';

export interface ReconciliationDeps {
  db: Db;
  stripe: StripeGateway | undefined;
  workflows: WorkflowStarter;
}

const settled = new Set(['fulfilled', 'refunded', 'disputed']);
const maxPerRun = 1_000;

export function createReconciliationActivities(deps: ReconciliationDeps) {
  return {
    async findUnfulfilledPaidPurchases(input: { since: string }): Promise<string[]> {
      if (!deps.stripe) return [];
      const since = new Date(input.since);
      const [sessions, intents] = await Promise.all([
        deps.stripe.listRecentCheckoutSessions({ createdSince: since, limit: maxPerRun }),
        deps.stripe.listRecentPaymentIntents({ createdSince: since, limit: maxPerRun }),
      ]);
      const paid = new Set<string>();
      for (const session of sessions.items) {
        if (session.paymentStatus === 'paid' && session.metadata.purchase_id)
          paid.add(session.metadata.purchase_id);
      }
      for (const intent of intents.items) {
        if (intent.status === 'succeeded' && intent.metadata.purchase_id)
          paid.add(intent.metadata.purchase_id);
      }
      if (paid.size === 0) return [];
      const known = await purchases(deps.db)
        .find({ purchase_id: { $in: [...paid] } }, { projection: { purchase_id: 1, status: 1 } })
        .toArray();
      return known.filter((doc) => !settled.has(doc.status)).map((doc) => doc.purchase_id);
    },

    async recheckPurchases(input: { purchase_ids: string[] }): Promise<void> {
      const at = new Date().toISOString();
      for (const purchaseId of input.purchase_ids) {
        await signalPurchase(deps.workflows, purchaseId, {
          event_id: `reconcile:${purchaseId}:${at}`,
          type: 'recheck',
        });
      }
    },
  };
}

export type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;
