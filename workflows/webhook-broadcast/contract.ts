import type { BroadcastEvent } from '../../src/webhooks/catalogue';

// The broadcast workflow's contract: one piece of news to many instances, a page at a time.

export const broadcastWorkflowType = 'webhookBroadcastWorkflow';

export function broadcastWorkflowId(broadcastId: string): string {
  return `webhook-broadcast:${broadcastId}`;
}

export interface WebhookBroadcastInput {
  broadcast_id: string;
  event: BroadcastEvent;
  data: Record<string, unknown>;
  instance_ids?: string[];
  batch_size: number;
  batches_per_run: number;
  /** Carried over continue-as-new. */
  cursor?: { after?: string; offset?: number };
  published?: number;
  unknown?: number;
  runs?: number;
}

export interface WebhookBroadcastResult {
  published: number;
  unknown: number;
  runs: number;
}
