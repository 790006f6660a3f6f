import { proxyActivities } from '@temporalio/workflow';
import type { ReconciliationActivities } from '../activities/reconciliation';

const { findUnfulfilledPaidPurchases, recheckPurchases } = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumInterval: '1 minute' },
});

export interface ReconciliationInput {
  /** How far back to look at Stripe (default 3 days: Stripe's own retry window). */
  lookback_ms?: number;
}

/**
 * Run by a Temporal Schedule: finds payments Stripe calls paid whose purchase is not fulfilled
 * here (a webhook that never came) and asks each purchase workflow to read Stripe again.
 */
export async function reconcilePaymentsWorkflow(
  input: ReconciliationInput = {},
): Promise<{ rechecked: string[] }> {
  const since = new Date(Date.now() - (input.lookback_ms ?? 3 * 24 * 3600_000)).toISOString();
  const purchaseIds = await findUnfulfilledPaidPurchases({ since });
  if (purchaseIds.length > 0) await recheckPurchases({ purchase_ids: purchaseIds });
  return { rechecked: purchaseIds };
}
