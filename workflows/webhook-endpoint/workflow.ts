import {
  condition,
  continueAsNew,
  defineSignal,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { WebhookActivities } from '../../activities/webhooks';
import { type EndpointDrainInput, type EndpointWorkflowResult, wakeSignalName } from './contract';

// One endpoint's deliveries. MongoDB holds each delivery's state (webhook_queue); this workflow owns
// the endpoint: it runs one drain at a time (so each queued delivery has one writer), sleeps until
// the next retry is due or a publisher wakes it, and ends after an hour with nothing queued (the next
// publish starts it again). Its cost in Temporal grows with the endpoint's busy periods, not with
// the number of webhooks.

export const wakeEndpointSignal = defineSignal(wakeSignalName);

// A drain runs while there is work and heartbeats; a lost worker is noticed within 20 s and the drain
// runs again elsewhere, resending (same webhook-id) what the lost one had not recorded.
const { drainWebhookEndpoint } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const quietLifetime = '1 hour';

export async function webhookEndpointWorkflow(input: EndpointDrainInput): Promise<EndpointWorkflowResult> {
  let woken = false;
  setHandler(wakeEndpointSignal, () => {
    woken = true;
  });
  let drains = 0;
  for (;;) {
    woken = false;
    const result = await drainWebhookEndpoint(input);
    drains += 1;
    if (result.next_due_in_ms === undefined) {
      if (!(await condition(() => woken, quietLifetime)) && !woken) return { drains };
    } else if (result.next_due_in_ms > 0) {
      await condition(() => woken, result.next_due_in_ms);
    }
    if (workflowInfo().continueAsNewSuggested || drains >= 500) {
      await continueAsNew<typeof webhookEndpointWorkflow>(input);
    }
  }
}
