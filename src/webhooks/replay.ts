import { WorkflowNotFoundError } from '@temporalio/client';
import type { Db } from 'mongodb';
import { deliveryWorkflowId } from '../../workflows/webhook-delivery/contract';
import type { WebhookEventType } from './catalogue';
import {
  type DeliveryStatus,
  ensureDelivery,
  findDeliveries,
  findDelivery,
  publicDelivery,
  type WebhookDeliveryDoc,
  webhookDeliveries,
} from './deliveries';
import { findEvent, type WebhookEventDoc } from './events';
import { mapLimit } from './map-limit';
import { queueDelivery, type WebhookPublisherDeps } from './publish';
import { findEntry } from './queue';
import { deliverySchedule } from './retry-schedule';
import { wakeEndpoint } from './wake';

// Sending again what did not arrive. A replay queues the delivery again under the same id (same event
// id on the wire, a fresh retry window, its attempts logged as a new round); a delivery still queued
// is left alone.

export const maxReplay = 1000;

/**
 * What an explicit replay of named events may re-send: anything but the redundant. A pending one is
 * included because its workflow may never have started (Temporal was down when it was published): the
 * start then repairs it, and collapses onto the workflow if it is running.
 */
const replayableByEvent: DeliveryStatus[] = ['dead_lettered', 'delivered', 'gone', 'failed', 'pending'];

export interface ReplaySelection {
  instance_id?: string;
  endpoint_id?: string;
  /** Named events: every finished delivery of them. Otherwise: dead letters created in [since, until]. */
  event_ids?: string[];
  since?: Date;
  until?: Date;
  dead_lettered_since?: Date;
  event_types?: WebhookEventType[];
}

export interface ReplayReport {
  dry_run: boolean;
  found: number;
  /** More matched than one call replays: call again (dead letters that went out no longer match). */
  truncated: boolean;
  deliveries: Array<
    ReturnType<typeof publicDelivery> & { replay: 'would_send' | 'started' | 'already_pending' }
  >;
}

export function findReplayable(db: Db, selection: ReplaySelection): Promise<WebhookDeliveryDoc[]> {
  return findDeliveries(db, {
    instance_id: selection.instance_id,
    endpoint_id: selection.endpoint_id,
    event_types: selection.event_types,
    ...(selection.event_ids
      ? { event_ids: selection.event_ids, statuses: replayableByEvent }
      : {
          statuses: ['dead_lettered'],
          since: selection.since,
          until: selection.until,
          dead_lettered_since: selection.dead_lettered_since,
        }),
    limit: maxReplay,
  });
}

/** A replay request as the routes take it (ISO times), narrowed to the caller's scope. */
export function replaySelection(
  request: { event_ids?: string[]; since?: string; until?: string; event_types?: WebhookEventType[] },
  scope: { instance_id?: string; endpoint_id?: string },
): ReplaySelection {
  return {
    ...scope,
    event_ids: request.event_ids,
    since: request.since ? new Date(request.since) : undefined,
    until: request.until ? new Date(request.until) : undefined,
    event_types: request.event_types,
  };
}

export async function replay(
  deps: WebhookPublisherDeps,
  selection: ReplaySelection,
  dryRun: boolean,
): Promise<ReplayReport> {
  return replayDeliveries(deps, await findReplayable(deps.db, selection), dryRun);
}

export async function replayDeliveries(
  deps: WebhookPublisherDeps,
  deliveries: WebhookDeliveryDoc[],
  dryRun: boolean,
): Promise<ReplayReport> {
  const schedule = deliverySchedule(deps.config);
  const report = await mapLimit(deliveries, 8, async (delivery) => {
    if (dryRun) return { ...publicDelivery(delivery), replay: 'would_send' as const };
    const started = await requeueDelivery(deps, delivery, schedule);
    return {
      ...publicDelivery(delivery),
      replay: started === 'started' ? ('started' as const) : ('already_pending' as const),
    };
  });
  return {
    dry_run: dryRun,
    found: deliveries.length,
    truncated: deliveries.length >= maxReplay,
    deliveries: report,
  };
}

/**
 * Queues a delivery again, unless it is still on its way: queued (its endpoint is woken, in case
 * that was lost), or a legacy per-delivery workflow is still running it.
 */
export async function requeueDelivery(
  deps: WebhookPublisherDeps,
  delivery: WebhookDeliveryDoc,
  schedule = deliverySchedule(deps.config),
): Promise<'started' | 'already_pending'> {
  if (await findEntry(deps.db, delivery.delivery_id)) {
    await wakeEndpoint(deps, delivery);
    return 'already_pending';
  }
  if (delivery.status === 'pending' && (await legacyRunIsOpen(deps, delivery))) return 'already_pending';
  const event = await findEvent(deps.db, delivery.event_id);
  if (!event) return 'already_pending';
  const generation = (delivery.replays ?? 0) + 1;
  // Nothing queued, so no drain writes this record now: the replay may.
  await webhookDeliveries(deps.db).updateOne(
    { _id: delivery.delivery_id },
    { $set: { status: 'pending', updated_at: new Date(), replays: generation } },
  );
  const queued = await queueDelivery(deps, event, delivery, schedule, generation);
  return queued === 'queued' ? 'started' : 'already_pending';
}

async function legacyRunIsOpen(deps: WebhookPublisherDeps, delivery: WebhookDeliveryDoc): Promise<boolean> {
  try {
    const handle = deps.workflows.handle(deliveryWorkflowId(delivery.delivery_id));
    return (await handle.describe()).status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false; // never started (or long gone)
    throw error;
  }
}

/**
 * One event to one endpoint of its instance, whatever happened before: also for an event the endpoint
 * never had (registered later, or filtered out at the time).
 */
export async function replayEventToEndpoint(
  deps: WebhookPublisherDeps,
  event: WebhookEventDoc,
  endpointId: string,
  dryRun: boolean,
): Promise<ReplayReport> {
  // A pending record is re-started too: if its workflow is running the start collapses onto it.
  const existing = await findDelivery(deps.db, `${event.event_id}:${endpointId}`);
  const delivery =
    existing ??
    (dryRun
      ? virtualDelivery(event, endpointId)
      : (await ensureDelivery(deps.db, event, endpointId, { status: 'pending' })).delivery);
  return replayDeliveries(deps, [delivery], dryRun);
}

/** What a dry run shows for a delivery that does not exist yet. */
function virtualDelivery(event: WebhookEventDoc, endpointId: string): WebhookDeliveryDoc {
  return {
    delivery_id: `${event.event_id}:${endpointId}`,
    event_id: event.event_id,
    endpoint_id: endpointId,
    instance_id: event.instance_id,
    event_type: event.event_type,
    status: 'pending',
    attempts: 0,
    created_at: event.created_at,
    updated_at: event.created_at,
  };
}
