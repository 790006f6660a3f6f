import type { Client } from '@temporalio/client';
import {
  type PurchaseView,
  type PurchaseWorkflowInput,
  purchaseViewQuery,
  purchaseWorkflowId,
  type StripeEventSignal,
  stripeEventSignal,
} from '../../workflows/purchase/definitions';

// How the API (and reconciliation) talk to purchase workflows. The workflow id comes from the
// purchase, so every start and every event for one purchase meets the same run.

const workflowType = 'purchaseWorkflow';

export async function startPurchaseWorkflow(client: Client, taskQueue: string, input: PurchaseWorkflowInput) {
  await client.workflow.start(workflowType, {
    taskQueue,
    workflowId: purchaseWorkflowId(input.purchase_id),
    args: [input],
    // A retried API request finds the run already there: that is success, not an error.
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

/** Delivers an event, starting the workflow if it is not running (e.g. the API crashed before). */
export async function signalPurchase(
  client: Client,
  taskQueue: string,
  purchaseId: string,
  event: StripeEventSignal,
) {
  await client.workflow.signalWithStart(workflowType, {
    taskQueue,
    workflowId: purchaseWorkflowId(purchaseId),
    args: [{ purchase_id: purchaseId } satisfies PurchaseWorkflowInput],
    signal: stripeEventSignal,
    signalArgs: [event],
  });
}

/** The live state of a purchase, or undefined if its workflow cannot be asked. */
export async function queryPurchase(client: Client, purchaseId: string): Promise<PurchaseView | undefined> {
  try {
    return await client.workflow.getHandle(purchaseWorkflowId(purchaseId)).query(purchaseViewQuery);
  } catch {
    return undefined;
  }
}
