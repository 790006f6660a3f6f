import { proxyActivities } from '@temporalio/workflow';
import type { ReconciliationActivities } from '../../activities/reconciliation';
import type { ReconciliationInput, ReconciliationResult } from './contract';

const { findUnfulfilledPaidPurchases, recheckPurchases } = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumInterval: '1 minute' },
});

/**
 * Run by a Temporal Schedule: finds payments Stripe calls paid whose purchase is not fulfilled
 * here (a webhook that never came) and asks each purchase workflow to read Stripe again.
 */
export async function reconcilePaymentsWorkflow(
  input: ReconciliationInput = {},
): Promise<ReconciliationResult> {
  const since = new Date(Date.now() - (input.lookback_ms ?? 3 * 24 * 3600_000)).toISOString();
  const purchaseIds = await findUnfulfilledPaidPurchases({ since });
  if (purchaseIds.length > 0) await recheckPurchases({ purchase_ids: purchaseIds });
  return { rechecked: purchaseIds };
}
