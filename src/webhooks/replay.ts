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
import {
  defaultEndpoint,
  defaultEndpointId,
  enableEndpoint,
  findEndpoint,
  type WebhookEndpointDoc,
  webhookEndpoints,
} from './endpoints';
import { findEvent, type WebhookEventDoc } from './events';
import { mapLimit } from './map-limit';
import { queueDelivery, type WebhookPublisherDeps } from './publish';
import { bringForward, type EndpointRef, endpointKey, findEntry, type QueueEntryDoc } from './queue';
import { deliverySchedule, type RetrySchedule } from './retry-schedule';
import { wakeEndpoint } from './wake';

// Sending again what did not arrive. A replay queues the delivery again under the same id (same event
// id on the wire, a fresh retry window, its attempts logged as a new round); a delivery still queued
// is left alone (`already_pending`, with its next attempt's time), or tried now if asked
// (`send_now`). A replay to a disabled endpoint is refused unless it is asked to enable it
// (`enable_endpoint`): its drain would dead-letter it again without a request.

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

/**
 * What a replay did with each delivery: `would_send` (dry run), `started` (queued again),
 * `already_pending` (still on its way: left alone, with its next attempt's time), `retry_now` (still
 * on its way, and `send_now` moved its next attempt to now), `endpoint_disabled` (dry run: the
 * endpoint is disabled, so a replay would be refused unless it enables it), `endpoint_deleted` (the
 * endpoint no longer exists: nothing to send to), `event_missing` (the event is not stored).
 */
export const replayOutcomes = [
  'would_send',
  'started',
  'already_pending',
  'retry_now',
  'endpoint_disabled',
  'endpoint_deleted',
  'event_missing',
] as const;
export type ReplayOutcome = (typeof replayOutcomes)[number];

export interface ReplayOptions {
  dry_run: boolean;
  /** Enable the disabled endpoints the replay goes to (otherwise it is refused). */
  enable_endpoint?: boolean;
  /** A delivery still on its way is tried now instead of at its next scheduled attempt. */
  send_now?: boolean;
}

export interface ReplayReport {
  dry_run: boolean;
  found: number;
  /** More matched than one call replays: call again (dead letters that went out no longer match). */
  truncated: boolean;
  /** The disabled endpoints this replay enabled (`enable_endpoint`). */
  enabled_endpoints: EndpointRef[];
  deliveries: Array<
    ReturnType<typeof publicDelivery> & { replay: ReplayOutcome; next_attempt_at: string | null }
  >;
}

/** A replay that would go to disabled endpoints and was not asked to enable them: nothing was sent. */
export class EndpointDisabledError extends Error {
  override name = 'EndpointDisabledError';
  constructor(
    readonly endpoints: Array<EndpointRef & { disabled_at: string | null; disabled_reason: string | null }>,
  ) {
    super(
      `webhook endpoint disabled: ${endpoints.map((e) => `${e.instance_id}/${e.endpoint_id}`).join(', ')}`,
    );
  }
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
  options: ReplayOptions,
): Promise<ReplayReport> {
  return replayDeliveries(deps, await findReplayable(deps.db, selection), options);
}

/**
 * The endpoints these deliveries go to, as stored now (the default endpoint without a record is
 * active; any other without one is gone): one read per call.
 */
async function targetsOf(db: Db, refs: EndpointRef[]): Promise<Map<string, WebhookEndpointDoc | null>> {
  const instanceIds = [...new Set(refs.map((ref) => ref.instance_id))];
  const stored =
    instanceIds.length === 0
      ? []
      : await webhookEndpoints(db)
          .find({ instance_id: { $in: instanceIds } }, { projection: { _id: 0 } })
          .toArray();
  const byKey = new Map(stored.map((doc) => [endpointKey(doc), doc]));
  const targets = new Map<string, WebhookEndpointDoc | null>();
  for (const ref of refs) {
    const key = endpointKey(ref);
    const doc = byKey.get(key);
    targets.set(
      key,
      ref.endpoint_id === defaultEndpointId
        ? defaultEndpoint(ref.instance_id, doc)
        : doc && doc.status !== 'deleted'
          ? doc
          : null,
    );
  }
  return targets;
}

/**
 * Refuses (EndpointDisabledError) a replay to disabled endpoints unless asked to enable them, and
 * enables them when asked: a replay never answers `started` for what its drain would dead-letter
 * unsent. Returns the endpoints as they now are and the ones it enabled.
 */
async function prepareTargets(deps: WebhookPublisherDeps, refs: EndpointRef[], options: ReplayOptions) {
  const targets = await targetsOf(deps.db, refs);
  const disabled = [...targets.values()].filter(
    (target): target is WebhookEndpointDoc => target?.status === 'disabled',
  );
  const enabled: EndpointRef[] = [];
  if (options.dry_run || disabled.length === 0) return { targets, enabled };
  if (!options.enable_endpoint) {
    throw new EndpointDisabledError(
      disabled.map((target) => ({
        instance_id: target.instance_id,
        endpoint_id: target.endpoint_id,
        disabled_at: target.disabled_at?.toISOString() ?? null,
        disabled_reason: target.disabled_reason ?? null,
      })),
    );
  }
  for (const target of disabled) {
    const ref = { instance_id: target.instance_id, endpoint_id: target.endpoint_id };
    if ((await enableEndpoint(deps.db, ref.instance_id, ref.endpoint_id)).changed) enabled.push(ref);
    targets.set(endpointKey(ref), { ...target, status: 'active' });
  }
  return { targets, enabled };
}

export async function replayDeliveries(
  deps: WebhookPublisherDeps,
  deliveries: WebhookDeliveryDoc[],
  options: ReplayOptions,
): Promise<ReplayReport> {
  return replayPrepared(deps, deliveries, options, await prepareTargets(deps, deliveries, options));
}

async function replayPrepared(
  deps: WebhookPublisherDeps,
  deliveries: WebhookDeliveryDoc[],
  options: ReplayOptions,
  { targets, enabled }: Awaited<ReturnType<typeof prepareTargets>>,
): Promise<ReplayReport> {
  const schedule = deliverySchedule(deps.config);
  const report = await mapLimit(deliveries, 8, async (delivery) => {
    const target = targets.get(endpointKey(delivery));
    const outcome: { replay: ReplayOutcome; next_attempt_at?: Date } = !target
      ? { replay: 'endpoint_deleted' }
      : options.dry_run
        ? await dryRunOutcome(deps.db, delivery, target)
        : await replayOne(deps, delivery, schedule, options.send_now ?? false);
    return {
      ...publicDelivery(delivery),
      replay: outcome.replay,
      next_attempt_at: outcome.next_attempt_at?.toISOString() ?? null,
    };
  });
  return {
    dry_run: options.dry_run,
    found: deliveries.length,
    truncated: deliveries.length >= maxReplay,
    enabled_endpoints: enabled,
    deliveries: report,
  };
}

async function dryRunOutcome(
  db: Db,
  delivery: WebhookDeliveryDoc,
  target: WebhookEndpointDoc,
): Promise<{ replay: ReplayOutcome; next_attempt_at?: Date }> {
  if (target.status === 'disabled') return { replay: 'endpoint_disabled' };
  const entry = await findEntry(db, delivery.delivery_id);
  return entry ? { replay: 'already_pending', next_attempt_at: entry.due_at } : { replay: 'would_send' };
}

async function replayOne(
  deps: WebhookPublisherDeps,
  delivery: WebhookDeliveryDoc,
  schedule: RetrySchedule,
  sendNow: boolean,
): Promise<{ replay: ReplayOutcome; next_attempt_at?: Date }> {
  const outcome = await requeue(deps, delivery, schedule);
  if (outcome.result !== 'queued_already') return { replay: outcome.result };
  const { entry } = outcome;
  if (entry && sendNow) {
    const now = new Date();
    if (await bringForward(deps.db, entry._id, now)) {
      // Signalled even if its drain is awake: the next drain reads the entry as it is now.
      await wakeEndpoint(deps, delivery, true);
      return { replay: 'retry_now', next_attempt_at: now };
    }
  }
  return { replay: 'already_pending', ...(entry ? { next_attempt_at: entry.due_at } : {}) };
}

/**
 * Queues a delivery again, unless it is still on its way: queued (its endpoint is woken, in case
 * that was lost), or a legacy per-delivery workflow is still running it.
 */
export async function requeueDelivery(
  deps: WebhookPublisherDeps,
  delivery: WebhookDeliveryDoc,
  schedule = deliverySchedule(deps.config),
): Promise<'started' | 'already_pending' | 'event_missing'> {
  const outcome = await requeue(deps, delivery, schedule);
  return outcome.result === 'queued_already' ? 'already_pending' : outcome.result;
}

async function requeue(
  deps: WebhookPublisherDeps,
  delivery: WebhookDeliveryDoc,
  schedule: RetrySchedule,
): Promise<
  { result: 'started' | 'event_missing' } | { result: 'queued_already'; entry: QueueEntryDoc | null }
> {
  const queued = await findEntry(deps.db, delivery.delivery_id);
  if (queued) {
    await wakeEndpoint(deps, delivery);
    return { result: 'queued_already', entry: queued };
  }
  if (delivery.status === 'pending' && (await legacyRunIsOpen(deps, delivery))) {
    return { result: 'queued_already', entry: null };
  }
  const event = await findEvent(deps.db, delivery.event_id);
  if (!event) return { result: 'event_missing' };
  const generation = (delivery.replays ?? 0) + 1;
  // Nothing queued, so no drain writes this record now: the replay may. A new round: no retry yet.
  await webhookDeliveries(deps.db).updateOne(
    { _id: delivery.delivery_id },
    {
      $set: { status: 'pending', updated_at: new Date(), replays: generation },
      $unset: { next_attempt_at: '' },
    },
  );
  const outcome = await queueDelivery(deps, event, delivery, schedule, generation);
  if (outcome === 'queued') return { result: 'started' };
  // Queued meanwhile by another replay.
  return { result: 'queued_already', entry: await findEntry(deps.db, delivery.delivery_id) };
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
  options: ReplayOptions,
): Promise<ReplayReport> {
  // Refused (or the endpoint enabled) before a record is made for a delivery that would not go.
  const prepared = await prepareTargets(
    deps,
    [{ instance_id: event.instance_id, endpoint_id: endpointId }],
    options,
  );
  // A pending record is re-started too: if its workflow is running the start collapses onto it.
  const existing = await findDelivery(deps.db, `${event.event_id}:${endpointId}`);
  const delivery =
    existing ??
    (options.dry_run
      ? virtualDelivery(event, endpointId)
      : (await ensureDelivery(deps.db, event, endpointId, { status: 'pending' })).delivery);
  return replayPrepared(deps, [delivery], options, prepared);
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

/**
 * Turns a disabled endpoint back on (the operator's and the plugin's enable), telling what it missed
 * (dead-lettered since it began failing) and, when asked, replaying that.
 */
export async function enableAndOfferMissed(
  deps: WebhookPublisherDeps,
  ref: EndpointRef,
  replayMissed: boolean,
) {
  const { before, changed } = await enableEndpoint(deps.db, ref.instance_id, ref.endpoint_id);
  const failingSince = before?.failing_since ?? before?.disabled_at;
  const missed =
    changed && failingSince
      ? await findReplayable(deps.db, {
          instance_id: ref.instance_id,
          endpoint_id: ref.endpoint_id,
          dead_lettered_since: failingSince,
        })
      : [];
  const replayed =
    replayMissed && missed.length > 0 ? await replayDeliveries(deps, missed, { dry_run: false }) : null;
  const after = await findEndpoint(deps.db, ref.instance_id, ref.endpoint_id);
  const missedSince = missed[0]?.created_at;
  return {
    changed,
    endpoint: after ?? before,
    missed: {
      count: missed.length,
      failing_since: failingSince?.toISOString() ?? null,
      event_ids: missed.map((delivery) => delivery.event_id),
      // The same selection as a replay call, for a caller that wants to look first.
      replay_with: missedSince ? { since: missedSince.toISOString() } : null,
    },
    replay: replayed,
  };
}
