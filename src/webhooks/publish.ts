import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Db } from 'mongodb';
import { instanceIdAttribute, webhookEventIdAttribute } from '../../workflows/search-attributes';
import type { webhookDeliveryWorkflow } from '../../workflows/webhook-delivery';
import type { Config } from '../config';
import { findInstance } from '../tenancy/instances';
import {
  type DeliveryStatus,
  deliveryWorkflowId,
  ensureDelivery,
  terminalStatuses,
  type WebhookDeliveryDoc,
} from './deliveries';
import { endpointAccepts, listEndpoints } from './endpoints';
import { storeEvent, type WebhookEventType } from './events';
import { deliverySchedule, type RetrySchedule, type ScheduleConfig } from './retry-schedule';

// How the rest of the backend sends a webhook: store the event once, then one durable delivery workflow
// per endpoint that wants it. Safe to call again with the same idempotency key (a retried activity, a
// repeated request): the event, the delivery records and the workflow ids all collapse onto the first.

export interface WebhookPublisherDeps {
  db: Db;
  /** A Temporal client: the API's, or an activity's `Context.current().client`. */
  client: Client;
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE'> & ScheduleConfig;
}

/** The publisher of a process that has a Temporal client (the API's `AppDeps` fit as they are). */
export function webhookPublisher(deps: {
  db: Db;
  temporal: { client: Client };
  config: WebhookPublisherDeps['config'];
}): WebhookPublisherDeps {
  return { db: deps.db, client: deps.temporal.client, config: deps.config };
}

export interface PublishInput {
  instance_id: string;
  event: WebhookEventType;
  data: Record<string, unknown>;
  /** Makes the publish idempotent, e.g. `ledger:<entry id>`; without it every call is a new event. */
  idempotency_key?: string;
  /** Send only to these endpoints (a test send); default: every endpoint whose filter takes the event. */
  endpoint_ids?: string[];
  /** Overrides the configured retry schedule (test sends, tests). */
  schedule?: RetrySchedule;
}

export interface PublishedDelivery {
  delivery_id: string;
  endpoint_id: string;
  workflow_id: string;
  /** `started`, `already_started`, or the record's status when nothing was started. */
  state: 'started' | 'already_started' | DeliveryStatus;
}

export interface PublishResult {
  event_id: string;
  /** False when the idempotency key had already published this event. */
  created: boolean;
  deliveries: PublishedDelivery[];
}

export class UnknownInstanceError extends Error {
  override name = 'UnknownInstanceError';
}

export async function publishEvent(deps: WebhookPublisherDeps, input: PublishInput): Promise<PublishResult> {
  const instance = await findInstance(deps.db, input.instance_id);
  if (!instance) throw new UnknownInstanceError(`no instance ${input.instance_id}`);
  const { event, created } = await storeEvent(deps.db, {
    instance_id: input.instance_id,
    event_type: input.event,
    data: input.data,
    idempotency_key: input.idempotency_key,
  });
  const endpoints = (await listEndpoints(deps.db, input.instance_id)).filter((endpoint) =>
    input.endpoint_ids
      ? input.endpoint_ids.includes(endpoint.endpoint_id)
      : endpointAccepts(endpoint, input.event),
  );
  const schedule = input.schedule ?? deliverySchedule(deps.config);
  const deliveries = await Promise.all(
    endpoints.map(async (endpoint) => {
      // A disabled endpoint gets nothing sent, but the event is kept as a dead letter to replay later.
      const initial =
        endpoint.status === 'disabled'
          ? { status: 'dead_lettered' as const, end_reason: 'endpoint disabled' }
          : { status: 'pending' as const };
      const { delivery } = await ensureDelivery(deps.db, event, endpoint.endpoint_id, initial);
      const workflowId = deliveryWorkflowId(event.event_id, endpoint.endpoint_id);
      const summary = {
        delivery_id: delivery.delivery_id,
        endpoint_id: endpoint.endpoint_id,
        workflow_id: workflowId,
      };
      // Already finished on an earlier publish: do not send it twice.
      if (terminalStatuses.includes(delivery.status)) return { ...summary, state: delivery.status };
      const state = await startDelivery(deps, delivery, schedule, false);
      return { ...summary, state };
    }),
  );
  return { event_id: event.event_id, created, deliveries };
}

/**
 * Starts the delivery's workflow. A first start refuses any earlier run of the same id (so a repeated
 * publish never re-sends a finished delivery); a replay may follow a closed run but never a running one.
 */
export async function startDelivery(
  deps: WebhookPublisherDeps,
  delivery: Pick<
    WebhookDeliveryDoc,
    'delivery_id' | 'event_id' | 'endpoint_id' | 'instance_id' | 'event_type'
  >,
  schedule: RetrySchedule,
  replay: boolean,
): Promise<'started' | 'already_started'> {
  try {
    await deps.client.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      workflowId: deliveryWorkflowId(delivery.event_id, delivery.endpoint_id),
      workflowIdReusePolicy: replay ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: webhookEventIdAttribute, value: delivery.event_id },
        { key: instanceIdAttribute, value: delivery.instance_id },
      ],
      args: [
        {
          delivery_id: delivery.delivery_id,
          event_id: delivery.event_id,
          endpoint_id: delivery.endpoint_id,
          instance_id: delivery.instance_id,
          event_type: delivery.event_type,
          schedule,
          replay,
        },
      ],
    });
    return 'started';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already_started';
    throw error;
  }
}
