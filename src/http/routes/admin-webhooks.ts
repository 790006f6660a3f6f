import { z } from 'zod';
import { findInstance } from '../../tenancy/instances';
import { startBroadcast } from '../../webhooks/broadcast';
import { operatorBroadcastEvents, webhookEventTypes } from '../../webhooks/catalogue';
import { deliveryStates, findDeliveries, publicDelivery } from '../../webhooks/deliveries';
import { listDeliveries } from '../../webhooks/delivery-list';
import { findEndpoint, publicEndpoint } from '../../webhooks/endpoints';
import { listNotifications } from '../../webhooks/notifications';
import { webhookPublisher } from '../../webhooks/publish';
import { enableAndOfferMissed, maxReplay, replay, replaySelection } from '../../webhooks/replay';
import type { AppDeps } from '../context';
import { notFound } from '../errors';
import { nextCursor, pagedLists, pagedQuery, pagedResponse, pageRequest } from '../paging';
import { type Route, route } from '../route';
import { instanceIdField, isoDateField, storableJsonObject } from '../schemas/common';
import { deliverySchema, enableRequest, enableResponse, replayControls, replayResponse } from './webhooks';

const eventTypeField = z.enum(webhookEventTypes);
const endpointIdField = z.string().min(1).max(64);

const stateList = z
  .string()
  .max(200)
  .regex(new RegExp(`^(${deliveryStates.join('|')})(,(${deliveryStates.join('|')}))*$`), {
    message: `one or more (comma-separated) of ${deliveryStates.join(', ')}`,
  })
  .transform((text) => text.split(',') as Array<(typeof deliveryStates)[number]>)
  .describe(
    'One state or several, comma-separated; every state when absent. `pending`: queued, no failed attempt in this round yet; ' +
      '`retrying`: pending after a failed attempt; the others are the delivery status',
  );

const deliveriesList = pagedLists.webhookDeliveries;

export const deliveriesQuery = pagedQuery({
  instance_id: instanceIdField.optional(),
  endpoint_id: endpointIdField.optional(),
  state: stateList.optional(),
  event_type: eventTypeField.optional(),
});

export const deliveriesResponse = pagedResponse({
  deliveries: z.array(
    deliverySchema.extend({
      state: z.enum(deliveryStates),
      next_attempt_at: z.iso
        .datetime()
        .nullable()
        .describe('pending and retrying: when its next attempt is due'),
      replays: z.number().int().describe('How many times it was replayed'),
    }),
  ),
});

export const deadLettersQuery = z.object({
  instance_id: instanceIdField.optional(),
  endpoint_id: endpointIdField.optional(),
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
    endpoint_id: endpointIdField.optional(),
    dry_run: z.boolean().optional(),
    ...replayControls,
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

export const adminEnableResponse = enableResponse.extend({ instance_id: z.string() });

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
      path: '/admin/v1/webhooks/deliveries',
      summary: 'Deliveries by state (pending, retrying, dead-lettered, delivered...), newest first, paged',
      auth: 'admin',
      query: deliveriesQuery,
      response: deliveriesResponse,
      async handler(ctx, input) {
        const { cursor, limit, state, ...filter } = input.query();
        const page = await listDeliveries(
          deps.db,
          { ...filter, states: state },
          pageRequest(deliveriesList, { cursor, limit }),
        );
        ctx.body = {
          success: true,
          deliveries: page.items,
          next_cursor: nextCursor(deliveriesList, page),
        };
      },
    }),
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
      response: replayResponse,
      async handler(ctx, input) {
        const request = input.body();
        const report = await replay(
          publisher,
          replaySelection(request, { instance_id: request.instance_id, endpoint_id: request.endpoint_id }),
          {
            dry_run: request.dry_run ?? false,
            enable_endpoint: request.enable_endpoint,
            send_now: request.send_now,
          },
        );
        ctx.state.log.info(
          { found: report.found, dry_run: report.dry_run, enabled_endpoints: report.enabled_endpoints },
          'webhook replay',
        );
        ctx.body = { success: true, ...report };
      },
    }),
    route({
      method: 'post',
      path: '/admin/v1/webhooks/endpoints/:instance_id/:endpoint_id/enable',
      summary:
        "Re-enable an instance's webhook endpoint (default included), optionally replaying what it missed",
      auth: 'admin',
      body: enableRequest,
      response: adminEnableResponse,
      async handler(ctx, input) {
        const instanceId = String(ctx.params.instance_id ?? '');
        const endpointId = String(ctx.params.endpoint_id ?? '');
        const instance = await findInstance(deps.db, instanceId);
        const endpoint = instance ? await findEndpoint(deps.db, instanceId, endpointId) : null;
        if (!instance || !endpoint) throw notFound('Webhook endpoint not found');
        const request = input.body();
        const enabled = await enableAndOfferMissed(publisher, endpoint, request.replay_missed ?? false);
        ctx.state.log.info(
          {
            instance_id: instanceId,
            endpoint_id: endpointId,
            changed: enabled.changed,
            missed: enabled.missed.count,
            replayed: enabled.replay?.deliveries.length ?? 0,
          },
          'webhook endpoint enabled by an operator',
        );
        ctx.body = {
          success: true,
          instance_id: instanceId,
          ...enabled,
          endpoint: publicEndpoint(enabled.endpoint ?? endpoint, instance.site_url),
        };
      },
    }),
    route({
      method: 'post',
      path: '/admin/v1/webhooks/broadcast',
      summary: 'Send an event to all or chosen instances',
      auth: 'admin',
      status: 202,
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
