import { randomUUID } from 'node:crypto';
import type { webhookBroadcastWorkflow } from '../../workflows/webhook-broadcast';
import type { Logger } from '../logger';
import { instances } from '../tenancy/instances';
import { mapLimit } from './map-limit';
import { publishEvent, UnknownInstanceError, type WebhookPublisherDeps } from './publish';

// News for many instances at once (config_updated, package_updated...). A broadcast is a workflow that
// pages through the instances in batches; each batch is one activity that publishes the event to each
// instance of the page (their deliveries are workflows of their own, started by the activity, not
// children), and the broadcast continues-as-new every few batches, so 10,000 instances never make one
// giant history.

export type BroadcastEvent = 'config_updated' | 'package_updated' | 'plugin_disabled' | 'plugin_enabled';

export interface BroadcastRequest {
  event: BroadcastEvent;
  data: Record<string, unknown>;
  /** A chosen list; omitted: every active instance. */
  instance_ids?: string[];
}

export interface BroadcastBatchInput extends BroadcastRequest {
  broadcast_id: string;
  /** Paging through all instances: the last instance_id of the previous page. */
  after?: string;
  /** Paging through a chosen list: where the page starts. */
  offset?: number;
  limit: number;
}

export interface BroadcastBatchResult {
  published: number;
  /** Listed instances that do not exist. */
  unknown: number;
  done: boolean;
  after?: string;
  offset?: number;
}

export const maxBroadcastList = 10_000;

export async function publishBroadcastBatch(
  deps: WebhookPublisherDeps,
  input: BroadcastBatchInput,
  heartbeat: () => void = () => {},
): Promise<BroadcastBatchResult> {
  let targets: string[];
  let next: Pick<BroadcastBatchResult, 'after' | 'offset'>;
  if (input.instance_ids) {
    const offset = input.offset ?? 0;
    targets = input.instance_ids.slice(offset, offset + input.limit);
    next = { offset: offset + targets.length };
  } else {
    const page = await instances(deps.db)
      .find(
        { status: 'active', ...(input.after ? { instance_id: { $gt: input.after } } : {}) },
        { projection: { _id: 0, instance_id: 1 } },
      )
      .sort({ instance_id: 1 })
      .limit(input.limit)
      .toArray();
    targets = page.map((doc) => doc.instance_id);
    next = { after: targets.at(-1) ?? input.after };
  }

  let unknown = 0;
  await mapLimit(targets, 8, async (instanceId) => {
    try {
      // The key makes a redone batch land on the events it already stored.
      await publishEvent(deps, {
        instance_id: instanceId,
        event: input.event,
        data: input.data,
        idempotency_key: `broadcast:${input.broadcast_id}`,
      });
    } catch (error) {
      if (!(error instanceof UnknownInstanceError)) throw error;
      unknown += 1;
    }
    heartbeat();
  });
  return { published: targets.length - unknown, unknown, done: targets.length < input.limit, ...next };
}

export interface BroadcastStarted {
  broadcast_id: string;
  workflow_id: string;
}

/** Starts a broadcast and returns at once; progress is in Temporal UI under the workflow id. */
export async function startBroadcast(
  deps: WebhookPublisherDeps,
  request: BroadcastRequest & { batch_size?: number; batches_per_run?: number },
): Promise<BroadcastStarted> {
  if (request.instance_ids && request.instance_ids.length > maxBroadcastList) {
    throw new RangeError(`at most ${maxBroadcastList} instances in a chosen list`);
  }
  const broadcastId = `bc_${randomUUID()}`;
  const workflowId = `webhook-broadcast:${broadcastId}`;
  await deps.client.workflow.start<typeof webhookBroadcastWorkflow>('webhookBroadcastWorkflow', {
    taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    workflowId,
    args: [
      {
        broadcast_id: broadcastId,
        event: request.event,
        data: request.data,
        ...(request.instance_ids ? { instance_ids: [...new Set(request.instance_ids)] } : {}),
        batch_size: request.batch_size ?? 200,
        batches_per_run: request.batches_per_run ?? 20,
      },
    ],
  });
  return { broadcast_id: broadcastId, workflow_id: workflowId };
}

/** `config_updated` to every active instance (or a chosen list). Plugins re-read the config they use. */
export function notifyConfigUpdated(
  deps: WebhookPublisherDeps,
  change: { key: string; updated_at: Date },
  instanceIds?: string[],
) {
  return startBroadcast(deps, {
    event: 'config_updated',
    // Not the value: config can hold credentials, and plugins fetch it authenticated anyway.
    data: { key: change.key, updated_at: change.updated_at.toISOString() },
    instance_ids: instanceIds,
  });
}

/**
 * `config_updated` for the admin config routes, best effort: the change is saved whatever happens
 * to the news of it, so a failure to start the broadcast is logged and answered as `null`.
 */
export async function announceConfigUpdated(
  deps: WebhookPublisherDeps,
  log: Pick<Logger, 'error'>,
  change: { key: string; updated_at: Date },
  instanceIds?: string[],
): Promise<{ broadcast_id: string; workflow_id: string } | null> {
  try {
    return await notifyConfigUpdated(deps, change, instanceIds);
  } catch (error) {
    log.error(
      { err: error, key: change.key, instance_ids: instanceIds ?? null },
      'could not start the config_updated broadcast',
    );
    return null;
  }
}

/** `package_updated` for the packages admin routes: `data` should carry at least `package_id`. */
export function notifyPackageUpdated(
  deps: WebhookPublisherDeps,
  data: { package_id: string } & Record<string, unknown>,
  instanceIds?: string[],
) {
  return startBroadcast(deps, { event: 'package_updated', data, instance_ids: instanceIds });
}
