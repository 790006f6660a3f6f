import {
  type PurchaseWorkflowInput,
  purchaseSummary,
  purchaseViewQueryName,
  purchaseWorkflowId,
  purchaseWorkflowType,
  type StripeEventSignal,
  stripeEventSignalName,
} from '../../workflows/purchase/contract';
import type { WorkflowStarter } from '../temporal/starter';
import type { PurchaseView } from './model';

// How the API (and reconciliation) talk to purchase workflows. The workflow id comes from the
// purchase, so every start and every event for one purchase meets the same run.

export async function startPurchaseWorkflow(
  workflows: WorkflowStarter,
  input: PurchaseWorkflowInput,
  terms: { credits: number; credit_type: string; amount: number; currency: string },
  requestId?: string,
) {
  await workflows.start(purchaseWorkflowType, {
    workflowId: purchaseWorkflowId(input.purchase_id),
    staticSummary: purchaseSummary(input.purchase_id, terms),
    // Temporal UI shows it: the run leads back to the API request (and its log lines) that began it.
    ...(requestId ? { memo: { request_id: requestId } } : {}),
    args: [input],
    // A retried API request finds the run already there: that is success, not an error.
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

/** Delivers an event, starting the workflow if it is not running (e.g. the API crashed before). */
export async function signalPurchase(
  workflows: WorkflowStarter,
  purchaseId: string,
  event: StripeEventSignal,
) {
  await workflows.signalWithStart(purchaseWorkflowType, {
    workflowId: purchaseWorkflowId(purchaseId),
    // Used only when this starts a run: a new purchase's first event, or news after its run ended.
    staticSummary: purchaseSummary(purchaseId, { stripe_event: event.type }),
    args: [{ purchase_id: purchaseId } satisfies PurchaseWorkflowInput],
    signal: stripeEventSignalName,
    signalArgs: [event],
  });
}

/** The live state of a purchase, or undefined if its workflow cannot be asked. */
export async function queryPurchase(
  workflows: Pick<WorkflowStarter, 'handle'>,
  purchaseId: string,
): Promise<PurchaseView | undefined> {
  try {
    return await workflows.handle(purchaseWorkflowId(purchaseId)).query<PurchaseView>(purchaseViewQueryName);
  } catch {
    return undefined;
  }
}
