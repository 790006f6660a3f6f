import type { Db } from 'mongodb';
import { endpointWorkflowId } from '../../workflows/webhook-endpoint/contract';
import type { WorkflowStarter } from '../temporal/starter';
import { findInstanceCached } from '../tenancy/instances';
import { checkEventData, type WebhookEventType } from './catalogue';
import {
  type DeliveryStatus,
  ensureDelivery,
  newDeliveryDoc,
  terminalStatuses,
  type WebhookDeliveryDoc,
  webhookDeliveries,
} from './deliveries';
import { localDrains } from './drain/local-drains';
import { endpointAccepts, listEndpointsCached, type WebhookEndpointDoc } from './endpoints';
import { newEventDoc, storeEvent, type WebhookEventDoc } from './events';
import { endpointKey, enqueue, type QueueEntryDoc } from './queue';
import { deliverySchedule, type RetrySchedule, type ScheduleConfig } from './retry-schedule';
import { wakeEndpoint } from './wake';

// How the rest of the backend sends a webhook: store the event once, a delivery record and a queue
// entry per endpoint that wants it, then make sure the endpoint's drain will see the entry (handed to
// it directly when it runs in this process, else one wake insert, and a signal only when it sleeps).
// Safe to call again with the same idempotency key (a retried activity, a repeated request): the
// event, the records and the entries all collapse onto the first.

export interface WebhookPublisherDeps {
  db: Db;
  /** The API's starter, or one on an activity's `Context.current().client`. */
  workflows: WorkflowStarter;
  config: ScheduleConfig;
}

/** The publisher of a process's services (the API's `AppDeps` fit as they are). */
export function webhookPublisher(
  deps: Pick<WebhookPublisherDeps, 'db' | 'workflows' | 'config'>,
): WebhookPublisherDeps {
  return { db: deps.db, workflows: deps.workflows, config: deps.config };
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
  /** The endpoint's workflow (Temporal UI). */
  workflow_id: string;
  /** `queued`, `already_queued`, or the record's status when nothing was queued. */
  state: 'queued' | 'already_queued' | DeliveryStatus;
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

/** A publisher's mistake: the data does not have the shape the event's catalogue entry says. */
export class InvalidEventDataError extends Error {
  override name = 'InvalidEventDataError';
}

export async function publishEvent(deps: WebhookPublisherDeps, input: PublishInput): Promise<PublishResult> {
  const problem = checkEventData(input.event, input.data);
  if (problem) throw new InvalidEventDataError(problem);
  // Both reads at once: on a cold cache (the first event to each of many instances) the publish
  // waits for one round trip, not two. An unknown instance has no endpoints to read anyway.
  const [instance, listed] = await Promise.all([
    findInstanceCached(deps.db, input.instance_id),
    listEndpointsCached(deps.db, input.instance_id),
  ]);
  if (!instance) throw new UnknownInstanceError(`no instance ${input.instance_id}`);
  const endpoints = listed.filter((endpoint) =>
    input.endpoint_ids
      ? input.endpoint_ids.includes(endpoint.endpoint_id)
      : endpointAccepts(endpoint, input.event),
  );
  const schedule = input.schedule ?? deliverySchedule(deps.config);
  const fresh = newEventDoc({
    instance_id: input.instance_id,
    event_type: input.event,
    data: input.data,
    idempotency_key: input.idempotency_key,
  });
  const initial = (endpoint: WebhookEndpointDoc) =>
    // A disabled endpoint gets nothing sent, but the event is kept as a dead letter to replay later.
    endpoint.status === 'disabled'
      ? { status: 'dead_lettered' as const, end_reason: 'endpoint disabled' }
      : { status: 'pending' as const };
  if (input.idempotency_key === undefined) return publishNew(deps, fresh, endpoints, schedule, initial);
  // A keyed publish may repeat an earlier one: the event and its delivery records in one round trip
  // (their ids both derive from the key, so a repeat collides on both), and the queue entries only
  // for records this publish made or found still pending (never for a delivery already finished).
  const recorded = endpoints.map((endpoint) =>
    ensureDelivery(deps.db, fresh, endpoint.endpoint_id, initial(endpoint)),
  );
  const [stored, records] = await Promise.all([
    storeEvent(deps.db, fresh).catch(async (error) => {
      // A reused idempotency key: take back the records made for the wrong event.
      const made = (await Promise.allSettled(recorded)).flatMap((r) =>
        r.status === 'fulfilled' && r.value.created ? [r.value.delivery.delivery_id] : [],
      );
      if (made.length > 0) await webhookDeliveries(deps.db).deleteMany({ _id: { $in: made } });
      throw error;
    }),
    Promise.all(recorded),
  ]);
  const deliveries = await Promise.all(
    records.map(async ({ delivery }) => {
      const summary = summaryOf(delivery);
      // Already finished on an earlier publish: do not send it twice.
      if (terminalStatuses.includes(delivery.status)) return { ...summary, state: delivery.status };
      const state = await queueDelivery(deps, stored.event, delivery, schedule, 0);
      return { ...summary, state };
    }),
  );
  return { event_id: stored.event.event_id, created: stored.created, deliveries };
}

/**
 * An event with a fresh random id cannot collide with anything: its event, delivery records and queue
 * entries are written in one round trip. (A drain may then finish a delivery before its record's
 * insert lands; it writes the record as an upsert, and the insert finds it.)
 */
async function publishNew(
  deps: WebhookPublisherDeps,
  event: WebhookEventDoc,
  endpoints: WebhookEndpointDoc[],
  schedule: RetrySchedule,
  initial: (endpoint: WebhookEndpointDoc) => { status: 'pending' | 'dead_lettered'; end_reason?: string },
): Promise<PublishResult> {
  const queued = endpoints.map((endpoint) =>
    initial(endpoint).status === 'pending'
      ? newEntry(event, newDeliveryDoc(event, endpoint.endpoint_id, initial(endpoint)), schedule, 0)
      : undefined,
  );
  // Each entry goes to its drain as soon as it is queued: the drain needs nothing else (the entry
  // carries the body, and the drain upserts the record), and the publish still waits for all.
  const [, records] = await Promise.all([
    storeEvent(deps.db, event),
    Promise.all(
      endpoints.map((endpoint) => ensureDelivery(deps.db, event, endpoint.endpoint_id, initial(endpoint))),
    ),
    Promise.all(
      queued.map(async (entry) => {
        if (entry) await handOver(deps, entry, (await enqueue(deps.db, entry)) === 'done');
      }),
    ),
  ]);
  const deliveries = records.map(({ delivery }, index) => {
    const summary = summaryOf(delivery);
    return queued[index] ? { ...summary, state: 'queued' as const } : { ...summary, state: delivery.status };
  });
  return { event_id: event.event_id, created: true, deliveries };
}

type QueuedDelivery = Pick<
  WebhookDeliveryDoc,
  'delivery_id' | 'instance_id' | 'endpoint_id' | 'supersede_key' | 'supersede_rank'
>;

function summaryOf(delivery: Pick<WebhookDeliveryDoc, 'delivery_id' | 'instance_id' | 'endpoint_id'>) {
  return {
    delivery_id: delivery.delivery_id,
    endpoint_id: delivery.endpoint_id,
    workflow_id: endpointWorkflowId(delivery),
  };
}

/**
 * Queues one delivery for its endpoint's drain and makes sure the drain will look. A delivery already
 * queued is left as it is (its endpoint is woken again, which costs nothing when it is awake).
 */
export async function queueDelivery(
  deps: WebhookPublisherDeps,
  event: Pick<WebhookEventDoc, 'event_id' | 'event_type' | 'body'>,
  delivery: QueuedDelivery,
  schedule: RetrySchedule,
  generation: number,
): Promise<'queued' | 'already_queued'> {
  const entry = newEntry(event, delivery, schedule, generation);
  const outcome = await enqueue(deps.db, entry);
  await handOver(deps, entry, outcome === 'done');
  return outcome === 'done' ? 'queued' : 'already_queued';
}

function newEntry(
  event: Pick<WebhookEventDoc, 'event_id' | 'event_type' | 'body'>,
  delivery: QueuedDelivery,
  schedule: RetrySchedule,
  generation: number,
): QueueEntryDoc {
  const now = new Date();
  return {
    _id: delivery.delivery_id,
    endpoint_key: endpointKey(delivery),
    instance_id: delivery.instance_id,
    endpoint_id: delivery.endpoint_id,
    event_id: event.event_id,
    event_type: event.event_type,
    body: event.body,
    schedule,
    enqueued_at: now,
    due_at: now,
    generation,
    attempts: 0,
    ...(delivery.supersede_key !== undefined && delivery.supersede_rank !== undefined
      ? { supersede_key: delivery.supersede_key, supersede_rank: delivery.supersede_rank }
      : {}),
  };
}

/**
 * Makes sure the endpoint's drain will see a queued entry: handed to it when it runs in this process,
 * else a wake (a signal only if the drain sleeps). A repeat (`fresh` false) wakes too, in case the
 * first publisher was lost between its insert and its wake.
 */
async function handOver(deps: WebhookPublisherDeps, entry: QueueEntryDoc, fresh: boolean): Promise<void> {
  if (fresh && localDrains(deps.db).offer(entry)) return;
  await wakeEndpoint(deps, entry);
}
