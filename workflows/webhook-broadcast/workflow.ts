import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { WebhookActivities } from '../../activities/webhooks';
import type { WebhookBroadcastInput, WebhookBroadcastResult } from './contract';

// One piece of news to many instances, a page at a time. Each page is one activity (which starts the
// page's delivery workflows itself), and every `batches_per_run` pages the workflow continues as new
// with its cursor, so the history stays small however many instances there are.

// A page publishes up to a few hundred events: it heartbeats per instance, and a retried page is
// harmless (event ids derive from the broadcast and the instance).
const { publishWebhookBroadcastBatch } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
});

export async function webhookBroadcastWorkflow(
  input: WebhookBroadcastInput,
): Promise<WebhookBroadcastResult> {
  let cursor = input.cursor ?? {};
  let published = input.published ?? 0;
  let unknown = input.unknown ?? 0;
  const runs = (input.runs ?? 0) + 1;
  for (let batch = 0; ; batch += 1) {
    if (batch >= input.batches_per_run || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof webhookBroadcastWorkflow>({ ...input, cursor, published, unknown, runs });
    }
    const page = await publishWebhookBroadcastBatch({
      broadcast_id: input.broadcast_id,
      event: input.event,
      data: input.data,
      instance_ids: input.instance_ids,
      limit: input.batch_size,
      ...cursor,
    });
    published += page.published;
    unknown += page.unknown;
    cursor = { after: page.after, offset: page.offset };
    if (page.done) return { published, unknown, runs };
  }
}
