import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Db } from 'mongodb';
import { broadcastWorkflowId } from '../../workflows/webhook-broadcast/contract';
import type { Logger } from '../logger';
import { collectionNames } from '../mongo/collections';
import { type BroadcastRequest, startBroadcast } from './broadcast';
import type { WebhookEventType } from './catalogue';
import { findEvent, newEventId } from './events';
import { publishEvent, type WebhookPublisherDeps } from './publish';

// How an operator's action tells plugins: the news is stored before Temporal is asked for anything,
// so a Temporal outage delays the webhook instead of losing it. An event to one instance is stored
// with its deliveries and queue entries, and the maintenance sweep wakes endpoints whose wake was
// lost; a broadcast is stored as a request, and the sweep starts those whose workflow never started.
// The operator's change stands whatever happens here: a failure is logged, never thrown.

export type Notification =
  | {
      to: 'instance';
      instance_id: string;
      event: WebhookEventType;
      data: Record<string, unknown>;
      /** What makes it unique (a ledger entry...): a repeated action stores nothing new. */
      idempotency_key?: string;
    }
  | ({ to: 'broadcast' } & BroadcastRequest);

export type NotifyResult =
  | { event_id: string; sent: 'now' | 'after_outage' }
  | { broadcast_id: string; workflow_id: string; sent: 'now' | 'after_outage' }
  | null;

interface BroadcastRecord extends BroadcastRequest {
  _id: string;
  requested_at: Date;
  started: boolean;
}

function broadcasts(db: Db) {
  return db.collection<BroadcastRecord>(collectionNames.webhookBroadcasts);
}

export async function notify(
  deps: WebhookPublisherDeps,
  log: Pick<Logger, 'warn' | 'error'>,
  notification: Notification,
): Promise<NotifyResult> {
  return notification.to === 'instance'
    ? notifyInstance(deps, log, notification)
    : notifyBroadcast(deps, log, notification);
}

async function notifyInstance(
  deps: WebhookPublisherDeps,
  log: Pick<Logger, 'warn' | 'error'>,
  notification: Extract<Notification, { to: 'instance' }>,
): Promise<NotifyResult> {
  const { instance_id: instanceId, event, data } = notification;
  // Always keyed, so that after a failure we can tell whether the event was stored.
  const key = notification.idempotency_key ?? `notify:${randomUUID()}`;
  try {
    const published = await publishEvent(deps, {
      instance_id: instanceId,
      event,
      data,
      idempotency_key: key,
    });
    return { event_id: published.event_id, sent: 'now' };
  } catch (error) {
    const eventId = newEventId(instanceId, key);
    if (await findEvent(deps.db, eventId).catch(() => null)) {
      log.warn(
        { err: error, instance_id: instanceId, event, event_id: eventId },
        'webhook stored; sent after the outage',
      );
      return { event_id: eventId, sent: 'after_outage' };
    }
    log.error({ err: error, instance_id: instanceId, event }, 'could not store the webhook');
    return null;
  }
}

async function notifyBroadcast(
  deps: WebhookPublisherDeps,
  log: Pick<Logger, 'warn' | 'error'>,
  request: BroadcastRequest,
): Promise<NotifyResult> {
  const broadcastId = `bc_${randomUUID()}`;
  const stored: BroadcastRecord = {
    _id: broadcastId,
    event: request.event,
    data: request.data,
    ...(request.instance_ids ? { instance_ids: request.instance_ids } : {}),
    requested_at: new Date(),
    started: false,
  };
  try {
    await broadcasts(deps.db).insertOne(stored);
  } catch (error) {
    log.error({ err: error, event: request.event }, 'could not store the broadcast');
    return null;
  }
  const workflow = { broadcast_id: broadcastId, workflow_id: broadcastWorkflowId(broadcastId) };
  try {
    await startStoredBroadcast(deps, stored);
    return { ...workflow, sent: 'now' };
  } catch (error) {
    log.warn({ err: error, ...workflow, event: request.event }, 'broadcast stored; started after the outage');
    return { ...workflow, sent: 'after_outage' };
  }
}

async function startStoredBroadcast(deps: WebhookPublisherDeps, record: BroadcastRecord): Promise<void> {
  try {
    await startBroadcast(deps, record, record._id);
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  await broadcasts(deps.db).updateOne({ _id: record._id }, { $set: { started: true } });
}

/** The sweep: broadcasts stored longer ago than `before` whose workflow was never started. */
export async function startStrandedBroadcasts(deps: WebhookPublisherDeps, before: Date): Promise<number> {
  const stranded = await broadcasts(deps.db)
    .find({ started: false, requested_at: { $lt: before } })
    .limit(100)
    .toArray();
  for (const record of stranded) await startStoredBroadcast(deps, record);
  return stranded.length;
}
