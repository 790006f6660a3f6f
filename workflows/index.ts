// Every workflow the worker runs, one folder each: `contract.ts` (type name, id, input and result,
// signals, queries, failures; no runtime imports) and `workflow.ts` (the code: Temporal APIs only, no
// I/O, no Node modules).
export { pingWorkflow } from './diagnostics/workflow';
export { grantExpiryWorkflow } from './grant-expiry/workflow';
export { maintenanceSweepWorkflow } from './maintenance/workflow';
export { purchaseWorkflow } from './purchase/workflow';
export { reconcilePaymentsWorkflow } from './reconciliation/workflow';
export { webhookBroadcastWorkflow } from './webhook-broadcast/workflow';
// Runs started before the per-endpoint engine keep running here until they end.
export { webhookDeliveryWorkflow } from './webhook-delivery/workflow';
export { webhookEndpointWorkflow } from './webhook-endpoint/workflow';
