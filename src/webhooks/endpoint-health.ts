import type { Db } from 'mongodb';
import type { Logger } from '../logger';
import { findInstance } from '../tenancy/instances';
import { clearFailing, disableEndpoint, markFailing, type WebhookEndpointDoc } from './endpoints';
import { raiseNotification } from './notifications';

// An endpoint that has failed every attempt for WEBHOOK_ENDPOINT_DISABLE_SECONDS (5 days) is
// switched off: new events for it are dead-lettered at once instead of piling up retries, the operator
// gets a notification, and the instance's admin an email to send. Enabling it again offers a replay of
// what it missed.

export interface HealthContext {
  db: Db;
  logger: Logger;
  disableAfterMs: number;
}

export async function noteEndpointSuccess(ctx: HealthContext, endpoint: WebhookEndpointDoc, now: Date) {
  if (endpoint.failing_since) await clearFailing(ctx.db, endpoint.instance_id, endpoint.endpoint_id, now);
}

/** Records a failed attempt; returns true when this failure disabled the endpoint. */
export async function noteEndpointFailure(
  ctx: HealthContext,
  endpoint: WebhookEndpointDoc,
  url: string,
  now: Date,
): Promise<boolean> {
  if (!endpoint.failing_since) {
    await markFailing(ctx.db, endpoint.instance_id, endpoint.endpoint_id, now);
    return false;
  }
  const failingMs = now.getTime() - endpoint.failing_since.getTime();
  if (failingMs < ctx.disableAfterMs) return false;

  const since = endpoint.failing_since.toISOString();
  const reason = `every delivery has failed since ${since}`;
  const disabled = await disableEndpoint(ctx.db, endpoint.instance_id, endpoint.endpoint_id, reason, now);
  if (!disabled) return false;

  ctx.logger.warn(
    { instance_id: endpoint.instance_id, endpoint_id: endpoint.endpoint_id, failing_since: since },
    'webhook endpoint disabled after failing continuously',
  );
  const dedupe = `endpoint-disabled:${endpoint.instance_id}:${endpoint.endpoint_id}:${since}`;
  const common = {
    kind: 'webhook_endpoint_disabled' as const,
    instance_id: endpoint.instance_id,
    endpoint_id: endpoint.endpoint_id,
    created_at: now,
  };
  const subject = `Rakubun webhooks to ${url} are paused`;
  const what =
    `Webhook endpoint ${endpoint.endpoint_id} (${url}) of instance ${endpoint.instance_id} has failed every ` +
    `delivery since ${since} and was disabled.`;
  const missed = 'the response lists the events it missed, and {"replay_missed": true} sends them again.';
  // The operator has the admin token, the instance's admin the plugin (its own token).
  const operatorMessage =
    `${what} Enable it with POST /admin/v1/webhooks/endpoints/${encodeURIComponent(endpoint.instance_id)}/` +
    `${encodeURIComponent(endpoint.endpoint_id)}/enable; ${missed} Its dead letters: ` +
    `GET /admin/v1/webhooks/dead-letters?instance_id=${encodeURIComponent(endpoint.instance_id)}` +
    `&endpoint_id=${encodeURIComponent(endpoint.endpoint_id)}.`;
  const message = `${what} Enable it with POST /api/v1/webhooks/${endpoint.endpoint_id}/enable; ${missed}`;
  await raiseNotification(ctx.db, {
    ...common,
    dedupe_key: `${dedupe}:operator`,
    channel: 'operator',
    status: 'open',
    subject,
    message: operatorMessage,
  });
  const instance = await findInstance(ctx.db, endpoint.instance_id);
  if (instance) {
    await raiseNotification(ctx.db, {
      ...common,
      dedupe_key: `${dedupe}:email`,
      channel: 'email',
      status: 'queued',
      to: instance.admin_email,
      subject,
      message,
    });
  }
  return true;
}
