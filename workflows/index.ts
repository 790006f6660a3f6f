// Every workflow the worker runs. Only Temporal workflow APIs here: no I/O, no Node modules.
export { pingWorkflow } from './diagnostics';
export { grantExpiryWorkflow } from './grant-expiry';
export { maintenanceSweepWorkflow } from './maintenance';
export { purchaseWorkflow } from './purchase/purchase-workflow';
export { reconcilePaymentsWorkflow } from './reconciliation';
export { webhookBroadcastWorkflow } from './webhook-broadcast';
// Runs started before the per-endpoint engine keep running here until they end.
export { webhookDeliveryWorkflow } from './webhook-delivery';
export { webhookEndpointWorkflow } from './webhook-endpoint';
