import type { RetrySchedule } from '../../src/webhooks/backoff';
import type { DeliveryStatus } from '../../src/webhooks/deliveries';

// The legacy per-delivery workflow's contract. Nothing starts it any more (the per-endpoint engine
// replaced it); it stays registered so that runs started before keep running until they end.

export const deliveryWorkflowType = 'webhookDeliveryWorkflow';

/** One per delivery (an event to an endpoint): duplicates collapsed into one run. */
export function deliveryWorkflowId(deliveryId: string): string {
  return `webhook-delivery:${deliveryId}`;
}

export interface WebhookDeliveryInput {
  delivery_id: string;
  event_id: string;
  endpoint_id: string;
  instance_id: string;
  event_type: string;
  schedule: RetrySchedule;
  replay: boolean;
  /** State handed over by continue-as-new. */
  carried?: { attempts: number; deferrals: number; clock_ms: number };
}

export type WebhookDeliveryStatus = Exclude<DeliveryStatus, 'pending'>;

export interface WebhookDeliveryResult {
  status: WebhookDeliveryStatus;
  /** HTTP attempts in this run (replays count from 1). */
  attempts: number;
  reason?: string;
}

export const deliveryStateQueryName = 'deliveryState';

export const deliveryFailures = {
  /** Retries ran out: the delivery is dead-lettered (or failed, for a one-shot send). */
  exhausted: 'DeliveryExhausted',
} as const;

/** Behaviour changes, each behind `patched(id)` so that runs started before replay the old path. */
export const deliveryPatches = {
  /** Attempts numbered, timers named, and a dead letter ends the run as failed. */
  visibleAttempts: 'delivery-visible-attempts',
} as const;

export interface DeliveryState {
  attempts: number;
  deferrals: number;
  next_attempt_at?: string;
}
