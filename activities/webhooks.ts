import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { workflowStarter } from '../src/temporal/starter';
import { type AttemptInput, type AttemptResult, attemptDelivery } from '../src/webhooks/attempt';
import { type BroadcastBatchInput, publishBroadcastBatch } from '../src/webhooks/broadcast';
import type { WebhookEventType } from '../src/webhooks/catalogue';
import { type CreditsUpdate, creditsUpdatedEvent } from '../src/webhooks/credits-updated';
import type { DeliveryStatus } from '../src/webhooks/deliveries';
import { endDelivery } from '../src/webhooks/deliveries';
import { drainEndpoint } from '../src/webhooks/drain/drain';
import { IdempotencyKeyReusedError } from '../src/webhooks/events';
import {
  InvalidEventDataError,
  type PublishResult,
  publishEvent,
  UnknownInstanceError,
  type WebhookPublisherDeps,
} from '../src/webhooks/publish';
import { ReceiverPacer } from '../src/webhooks/receiver-pacing';
import type { EndpointDrainInput, EndpointDrainResult } from '../workflows/webhook-endpoint/contract';
import type { ActivityDeps } from './deps';

export interface PublishWebhookEventInput {
  instance_id: string;
  event: WebhookEventType;
  data: Record<string, unknown>;
  /**
   * What makes this event unique, e.g. `ledger:<entry id>`. Defaults to the calling activity's identity
   * (workflow, run, activity id), so a retried activity publishes once.
   */
  idempotency_key?: string;
}

export function createWebhookActivities(deps: ActivityDeps) {
  const { db, logger, config, secretBox } = deps;
  // One pacer per worker: it guards this worker's activity slots against slow receivers.
  const pacer = new ReceiverPacer(config.WEBHOOK_MAX_CONCURRENCY_PER_HOST, Date.now, {
    maxConcurrency: config.WEBHOOK_MAX_CONCURRENCY_FAST_HOST,
  });
  // The activity's own client (the worker's connection): no second connection to Temporal.
  const publisher = (): WebhookPublisherDeps => ({
    db,
    workflows: workflowStarter(Context.current().client, config),
    config,
  });
  const publish = async (input: PublishWebhookEventInput): Promise<PublishResult> => {
    const { workflowExecution, activityId } = Context.current().info;
    const caller = workflowExecution
      ? `${workflowExecution.workflowId}:${workflowExecution.runId}`
      : 'standalone';
    const key = input.idempotency_key ?? `activity:${caller}:${activityId}`;
    try {
      return await publishEvent(publisher(), { ...input, idempotency_key: key });
    } catch (error) {
      // Retrying cannot make an unknown instance exist or a reused key fit: fail the caller now.
      if (
        error instanceof UnknownInstanceError ||
        error instanceof IdempotencyKeyReusedError ||
        error instanceof InvalidEventDataError
      ) {
        throw ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: true });
      }
      throw error;
    }
  };
  const sending = {
    db,
    logger,
    secretBox,
    pacer,
    allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    disableEndpointAfterMs: config.WEBHOOK_ENDPOINT_DISABLE_SECONDS * 1000,
  };

  return {
    /** Legacy per-delivery workflows (started before the per-endpoint engine): one HTTP attempt. */
    async attemptWebhookDelivery(input: AttemptInput): Promise<AttemptResult> {
      return attemptDelivery({ ...sending, signal: Context.current().cancellationSignal }, input);
    },

    /** One endpoint's drain (see src/webhooks/drain): sends what is queued until the endpoint is quiet. */
    async drainWebhookEndpoint(input: EndpointDrainInput): Promise<EndpointDrainResult> {
      const context = Context.current();
      return drainEndpoint(
        {
          ...sending,
          signal: context.cancellationSignal,
          ...(deps.stopping ? { stopping: deps.stopping } : {}),
          heartbeat: () => context.heartbeat(),
        },
        input,
      );
    },

    /** Legacy per-delivery workflows: their final word (retries exhausted). */
    async endWebhookDelivery(input: { delivery_id: string; status: DeliveryStatus; reason: string }) {
      await endDelivery(db, input.delivery_id, input.status, input.reason, new Date());
      if (input.status === 'dead_lettered') {
        logger.warn({ delivery_id: input.delivery_id, reason: input.reason }, 'webhook dead-lettered');
      }
    },

    /** For other workflows (purchases, grants): `credits_updated` and friends. */
    async publishWebhookEvent(input: PublishWebhookEventInput): Promise<PublishResult> {
      return publish(input);
    },

    /** `credits_updated` for a ledger change (creditsUpdatedEvent): not sent when no email is known. */
    async publishCreditsUpdated(update: CreditsUpdate): Promise<void> {
      const event = creditsUpdatedEvent(update);
      if (!event) {
        logger.warn(
          { instance_id: update.instance_id, user_id: update.user_id, ledger_seq: update.ledger_seq },
          'credits_updated not sent: no email is known for this user',
        );
        return;
      }
      await publish(event);
    },

    /** One page of a broadcast. */
    async publishWebhookBroadcastBatch(input: BroadcastBatchInput) {
      return publishBroadcastBatch(publisher(), input, () => Context.current().heartbeat());
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
