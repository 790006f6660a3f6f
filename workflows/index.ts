// Every workflow the worker runs. Only Temporal workflow APIs here: no I/O, no Node modules.
export { pingWorkflow } from './diagnostics';
export { webhookBroadcastWorkflow } from './webhook-broadcast';
export { webhookDeliveryWorkflow } from './webhook-delivery';
