import { randomUUID } from 'node:crypto';
import { broadcastWorkflowId, broadcastWorkflowType } from '../../workflows/webhook-broadcast/contract';
import { instances } from '../tenancy/instances';
import type { BroadcastEvent } from './catalogue';
import { mapLimit } from './map-limit';
import { publishEvent, UnknownInstanceError, type WebhookPublisherDeps } from './publish';

// News for many instances at once (config_updated, package_updated...). A broadcast is a workflow that
// pages through the instances in batches; each batch is one activity that publishes the event to each
// instance of the page (their deliveries are workflows of their own, started by the activity, not
// children), and the broadcast continues-as-new every few batches, so 10,000 instances never make one
// giant history.

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

/**
 * Starts a broadcast and returns at once; progress is in Temporal UI under the workflow id. Operator
 * broadcasts go through notify() (notify.ts), which stores the request first and passes its id.
 */
export async function startBroadcast(
  deps: WebhookPublisherDeps,
  request: BroadcastRequest & { batch_size?: number; batches_per_run?: number },
  broadcastId = `bc_${randomUUID()}`,
): Promise<BroadcastStarted> {
  if (request.instance_ids && request.instance_ids.length > maxBroadcastList) {
    throw new RangeError(`at most ${maxBroadcastList} instances in a chosen list`);
  }
  const workflowId = broadcastWorkflowId(broadcastId);
  await deps.workflows.start(broadcastWorkflowType, {
    workflowId,
    staticSummary: `Broadcast ${request.event} to ${
      request.instance_ids ? `${request.instance_ids.length} chosen instances` : 'every active instance'
    }`,
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

/** `config_updated`: never the value (config can hold credentials; plugins fetch it authenticated). */
export function configUpdatedNews(
  change: { key: string; updated_at: Date },
  instanceIds?: string[],
): BroadcastRequest {
  return {
    event: 'config_updated',
    data: { key: change.key, updated_at: change.updated_at.toISOString() },
    ...(instanceIds ? { instance_ids: instanceIds } : {}),
  };
}
