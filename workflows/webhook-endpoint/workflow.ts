import {
  condition,
  continueAsNew,
  defineSignal,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { WebhookActivities } from '../../activities/webhooks';
import {
  type EndpointDrainInput,
  type EndpointDrainResult,
  type EndpointWorkflowResult,
  endpointPatches,
  wakeSignalName,
} from './contract';

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
  const visible = patched(endpointPatches.visibleDrains);
  let woken = false;
  setHandler(wakeEndpointSignal, () => {
    woken = true;
  });
  let drains = 0;
  for (;;) {
    woken = false;
    const result = visible
      ? await drainWebhookEndpoint.executeWithOptions({ summary: `Drain #${drains + 1}` }, [input])
      : await drainWebhookEndpoint(input);
    drains += 1;
    if (visible) setCurrentDetails(drainDetails(drains, result));
    if (result.next_due_in_ms === undefined) {
      const quiet = visible
        ? await condition(() => woken, quietLifetime, {
            summary: 'Nothing queued: end after an hour of quiet',
          })
        : await condition(() => woken, quietLifetime);
      if (!quiet && !woken) return { drains };
    } else if (result.next_due_in_ms > 0) {
      if (visible)
        await condition(() => woken, result.next_due_in_ms, { summary: 'Until the next retry is due' });
      else await condition(() => woken, result.next_due_in_ms);
    }
    if (workflowInfo().continueAsNewSuggested || drains >= 500) {
      await continueAsNew<typeof webhookEndpointWorkflow>(input);
    }
  }
}

/** What Temporal UI shows for the run: the last drain's work and its last failure, if any. */
function drainDetails(drains: number, result: EndpointDrainResult): string {
  const next =
    result.next_due_in_ms === undefined
      ? 'nothing queued'
      : `next try in ${Math.round(result.next_due_in_ms / 1000)} s`;
  const failure = result.last_failure ? `; last failure: ${result.last_failure}` : '';
  return `drain #${drains}: ${result.attempts} attempts, ${result.ended} ended, ${next}${failure}`;
}
