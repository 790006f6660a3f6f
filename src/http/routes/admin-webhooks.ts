import { z } from 'zod';
import { startBroadcast } from '../../webhooks/broadcast';
import { operatorBroadcastEvents, webhookEventTypes } from '../../webhooks/catalogue';
import { findDeliveries, publicDelivery } from '../../webhooks/deliveries';
import { listNotifications } from '../../webhooks/notifications';
import { webhookPublisher } from '../../webhooks/publish';
import { maxReplay, replay, replaySelection } from '../../webhooks/replay';
import type { AppDeps } from '../context';
import { type Route, route } from '../route';
import { instanceIdField, isoDateField, storableJsonObject } from '../schemas/common';

const eventTypeField = z.enum(webhookEventTypes);

export const deadLettersQuery = z.object({
  instance_id: instanceIdField.optional(),
  endpoint_id: z.string().min(1).max(64).optional(),
  event_type: eventTypeField.optional(),
  since: isoDateField.optional(),
  until: isoDateField.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const adminReplayRequest = z
  .object({
    event_ids: z.array(z.string().min(1).max(100)).min(1).max(maxReplay).optional(),
    since: isoDateField.optional(),
    until: isoDateField.optional(),
    event_types: z.array(eventTypeField).min(1).optional(),
    instance_id: instanceIdField.optional(),
    dry_run: z.boolean().optional(),
  })
  .refine((request) => request.event_ids !== undefined || request.since !== undefined, {
    message: 'give event_ids, or since (and optionally until, event_types, instance_id)',
    path: ['since'],
  });

// Other events have routes that also change state (disable, enable); these are pure news.
export const broadcastRequest = z.object({
  event: z.enum(operatorBroadcastEvents),
  data: storableJsonObject.default({}),
  instance_ids: z.array(instanceIdField).min(1).max(10_000).optional(),
});

export const notificationsQuery = z.object({
  instance_id: instanceIdField.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** Operator views and actions on webhook delivery across all instances. */
export function adminWebhookRoutes(deps: AppDeps): Route[] {
  const publisher = webhookPublisher(deps);
  return [
    route({
      method: 'get',
      path: '/admin/v1/webhooks/dead-letters',
      summary: 'Dead-lettered deliveries',
      auth: 'admin',
      query: deadLettersQuery,
      async handler(ctx, input) {
        const query = input.query();
        const deliveries = await findDeliveries(deps.db, {
          instance_id: query.instance_id,
          endpoint_id: query.endpoint_id,
          event_types: query.event_type ? [query.event_type] : undefined,
          statuses: ['dead_lettered'],
          since: query.since ? new Date(query.since) : undefined,
          until: query.until ? new Date(query.until) : undefined,
          limit: query.limit,
        });
        ctx.body = { success: true, dead_letters: deliveries.map(publicDelivery) };
      },
    }),
    route({
      method: 'post',
      path: '/admin/v1/webhooks/replay',
      summary: 'Replay dead letters or chosen events',
      auth: 'admin',
      body: adminReplayRequest,
      async handler(ctx, input) {
        const request = input.body();
        const report = await replay(
          publisher,
          replaySelection(request, { instance_id: request.instance_id }),
          request.dry_run ?? false,
        );
        ctx.state.log.info({ found: report.found, dry_run: report.dry_run }, 'webhook replay');
        ctx.body = { success: true, ...report };
      },
    }),
    route({
      method: 'post',
      path: '/admin/v1/webhooks/broadcast',
      summary: 'Send an event to all or chosen instances',
      auth: 'admin',
      body: broadcastRequest,
      async handler(ctx, input) {
        const request = input.body();
        const started = await startBroadcast(publisher, request);
        ctx.state.log.info({ ...started, event: request.event }, 'webhook broadcast started');
        ctx.status = 202;
        ctx.body = { success: true, ...started };
      },
    }),
    route({
      method: 'get',
      path: '/admin/v1/webhooks/notifications',
      summary: 'Operator notifications',
      auth: 'admin',
      query: notificationsQuery,
      async handler(ctx, input) {
        ctx.body = { success: true, notifications: await listNotifications(deps.db, input.query()) };
      },
    }),
  ];
}
