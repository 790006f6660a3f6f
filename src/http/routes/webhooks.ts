import { z } from 'zod';
import { listAttempts } from '../../webhooks/attempts';
import { webhookEventTypes } from '../../webhooks/catalogue';
import { deliveryStatuses, publicDelivery, waitForDeliveryEnd } from '../../webhooks/deliveries';
import {
  createEndpoint,
  deleteEndpoint,
  findEndpoint,
  listEndpoints,
  publicEndpoint,
} from '../../webhooks/endpoints';
import { findEvent } from '../../webhooks/events';
import { endpointUrlProblem } from '../../webhooks/ip-policy';
import { publishEvent, webhookPublisher } from '../../webhooks/publish';
import {
  enableAndOfferMissed,
  replay,
  replayEventToEndpoint,
  replayOutcomes,
  replaySelection,
} from '../../webhooks/replay';
import { oneShotSchedule } from '../../webhooks/retry-schedule';
import { type AppDeps, callerInstance } from '../context';
import { ApiError, notFound } from '../errors';
import { type Route, type RouteContext, route } from '../route';
import { isoDateField } from '../schemas/common';

const eventTypeField = z.enum(webhookEventTypes);

export const createWebhookRequest = z.object({
  url: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).max(2048),
  /** Which events go there; default every event (`*`). */
  events: z
    .array(z.union([eventTypeField, z.literal('*')]))
    .min(1)
    .max(webhookEventTypes.length + 1)
    .optional(),
  description: z.string().min(1).max(200).optional(),
});

/** How a replay treats a disabled endpoint and a delivery still on its way (both replay routes). */
export const replayControls = {
  enable_endpoint: z
    .boolean()
    .optional()
    .describe(
      'Enable the endpoint first if it is disabled. Without it a replay to a disabled endpoint is refused (409 endpoint_disabled) and sends nothing',
    ),
  send_now: z
    .boolean()
    .optional()
    .describe(
      'A delivery still on its way (`already_pending`) is tried now instead of at its next scheduled attempt (`retry_now`)',
    ),
};

export const replayRequest = z
  .object({
    event_id: z.string().min(1).max(100).optional(),
    since: isoDateField.optional(),
    until: isoDateField.optional(),
    event_types: z.array(eventTypeField).min(1).optional(),
    dry_run: z.boolean().optional(),
    ...replayControls,
  })
  .refine((request) => request.event_id !== undefined || request.since !== undefined, {
    message: 'give event_id, or since (and optionally until and event_types)',
    path: ['since'],
  });

export const enableRequest = z.object({ replay_missed: z.boolean().optional() });

export const attemptsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  event_id: z.string().min(1).max(100).optional(),
  before: isoDateField.optional(),
});

export const endpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.union([eventTypeField, z.literal('*')])),
  description: z.string().nullable(),
  status: z.enum(['active', 'disabled', 'deleted']),
  failing_since: z.iso.datetime().nullable(),
  disabled_at: z.iso.datetime().nullable(),
  disabled_reason: z.string().nullable(),
  /** Null for the default endpoint (the site itself), which is never created. */
  created_at: z.iso.datetime().nullable(),
});
export const deliverySchema = z.object({
  delivery_id: z.string(),
  event_id: z.string(),
  event: eventTypeField,
  endpoint_id: z.string(),
  instance_id: z.string(),
  status: z.enum(deliveryStatuses),
  attempts: z.number().int(),
  created_at: z.iso.datetime(),
  last_attempt_at: z.iso.datetime().nullable(),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  delivered_at: z.iso.datetime().nullable(),
  dead_lettered_at: z.iso.datetime().nullable(),
  end_reason: z.string().nullable(),
});
const attemptSchema = z.object({
  event_id: z.string(),
  event: eventTypeField,
  delivery_id: z.string(),
  attempt: z.number().int(),
  url: z.string(),
  started_at: z.iso.datetime(),
  latency_ms: z.number(),
  outcome: z.enum(['delivered', 'failed', 'gone', 'refused']),
  status_code: z.number().int().nullable(),
  response_body: z.string().nullable(),
  error: z.string().nullable(),
});
const replayReportSchema = z.object({
  dry_run: z.boolean(),
  found: z.number().int(),
  truncated: z.boolean(),
  enabled_endpoints: z
    .array(z.object({ instance_id: z.string(), endpoint_id: z.string() }))
    .describe('The disabled endpoints this replay enabled (`enable_endpoint`)'),
  deliveries: z.array(
    deliverySchema.extend({
      replay: z
        .enum(replayOutcomes)
        .describe(
          'would_send (dry run); started (queued again); already_pending (still on its way, left alone: see next_attempt_at); ' +
            'retry_now (still on its way, its next attempt moved to now by send_now); endpoint_disabled (dry run: refused unless enable_endpoint); ' +
            'endpoint_deleted (no endpoint to send to); event_missing (the event is not stored)',
        ),
      next_attempt_at: z.iso
        .datetime()
        .nullable()
        .describe('already_pending and retry_now: when its next attempt is due'),
    }),
  ),
});

export const endpointResponse = z.object({ success: z.literal(true), endpoint: endpointSchema });
export const endpointsResponse = z.object({ success: z.literal(true), endpoints: z.array(endpointSchema) });
export const deleteEndpointResponse = z.object({
  success: z.literal(true),
  deleted: z.string().describe('The id of the removed endpoint'),
});
/** `delivery` and `attempt` are null if the one attempt had not been made within the wait. */
export const testSendResponse = z.object({
  success: z.literal(true),
  event_id: z.string(),
  delivered: z.boolean(),
  delivery: deliverySchema.nullable(),
  attempt: attemptSchema.nullable(),
});
export const attemptsResponse = z.object({ success: z.literal(true), attempts: z.array(attemptSchema) });
export const replayResponse = replayReportSchema.extend({ success: z.literal(true) });
export const enableResponse = z.object({
  success: z.literal(true),
  changed: z.boolean(),
  endpoint: endpointSchema,
  missed: z.object({
    count: z.number().int(),
    failing_since: z.iso.datetime().nullable(),
    event_ids: z.array(z.string()),
    replay_with: z.object({ since: z.iso.datetime() }).nullable(),
  }),
  /** The replay of what was missed, when `replay_missed` asked for it and there was any. */
  replay: replayReportSchema.nullable(),
});

/** How long a test send waits for its one attempt (30 s POST limit, plus scheduling). */
const testSendWaitMs = 35_000;

/** Endpoints, test sends, attempt logs and replays of the calling instance; others' are 404. */
export function webhookRoutes(deps: AppDeps): Route[] {
  const publisher = webhookPublisher(deps);

  const ownEndpoint = async (ctx: RouteContext) => {
    const endpoint = await findEndpoint(
      deps.db,
      callerInstance(ctx).instance_id,
      String(ctx.params.id ?? ''),
    );
    if (!endpoint) throw notFound('Webhook endpoint not found');
    return endpoint;
  };

  return [
    route({
      method: 'post',
      path: '/api/v1/webhooks',
      summary: 'Register a webhook endpoint',
      auth: 'plugin',
      scope: 'webhooks:manage',
      body: createWebhookRequest,
      response: endpointResponse,
      status: 201,
      async handler(ctx, input) {
        const request = input.body();
        const problem = endpointUrlProblem(request.url, deps.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS);
        if (problem) throw new ApiError(400, 'invalid_request', `Invalid fields: url (${problem})`);
        const instance = callerInstance(ctx);
        const endpoint = await createEndpoint(deps.db, {
          instance_id: instance.instance_id,
          url: request.url,
          events: request.events ?? ['*'],
          description: request.description,
        });
        ctx.status = 201;
        ctx.body = { success: true, endpoint: publicEndpoint(endpoint, instance.site_url) };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/webhooks',
      summary: 'List webhook endpoints',
      auth: 'plugin',
      scope: 'webhooks:manage',
      response: endpointsResponse,
      async handler(ctx) {
        const instance = callerInstance(ctx);
        const endpoints = await listEndpoints(deps.db, instance.instance_id);
        ctx.body = {
          success: true,
          endpoints: endpoints.map((doc) => publicEndpoint(doc, instance.site_url)),
        };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/webhooks/:id',
      summary: 'One webhook endpoint',
      auth: 'plugin',
      scope: 'webhooks:manage',
      response: endpointResponse,
      async handler(ctx) {
        ctx.body = {
          success: true,
          endpoint: publicEndpoint(await ownEndpoint(ctx), callerInstance(ctx).site_url),
        };
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/webhooks/:id',
      summary: 'Remove a webhook endpoint',
      auth: 'plugin',
      scope: 'webhooks:manage',
      response: deleteEndpointResponse,
      async handler(ctx) {
        const endpoint = await ownEndpoint(ctx);
        if (endpoint.kind === 'default') {
          throw new ApiError(400, 'invalid_request', 'The default endpoint (your site) cannot be deleted');
        }
        await deleteEndpoint(deps.db, endpoint.instance_id, endpoint.endpoint_id);
        ctx.body = { success: true, deleted: endpoint.endpoint_id };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/webhooks/:id/test',
      summary: 'Send a test event',
      auth: 'plugin',
      scope: 'webhooks:manage',
      response: testSendResponse,
      async handler(ctx) {
        const endpoint = await ownEndpoint(ctx);
        if (endpoint.status !== 'active') {
          throw new ApiError(409, 'conflict', 'This endpoint is disabled; enable it first');
        }
        const published = await publishEvent(publisher, {
          instance_id: endpoint.instance_id,
          event: 'test_webhook',
          data: { message: 'Test webhook from Rakubun', endpoint_id: endpoint.endpoint_id },
          endpoint_ids: [endpoint.endpoint_id],
          schedule: oneShotSchedule,
        });
        const delivery = await waitForDeliveryEnd(
          deps.db,
          `${published.event_id}:${endpoint.endpoint_id}`,
          testSendWaitMs,
        );
        const [attempt] = await listAttempts(deps.db, {
          instance_id: endpoint.instance_id,
          endpoint_id: endpoint.endpoint_id,
          event_id: published.event_id,
          limit: 1,
        });
        ctx.body = {
          success: true,
          event_id: published.event_id,
          delivered: delivery?.status === 'delivered',
          delivery: delivery ? publicDelivery(delivery) : null,
          attempt: attempt ?? null,
        };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/webhooks/:id/attempts',
      summary: 'Delivery attempts log',
      auth: 'plugin',
      scope: 'webhooks:manage',
      query: attemptsQuery,
      response: attemptsResponse,
      async handler(ctx, input) {
        const endpoint = await ownEndpoint(ctx);
        const query = input.query();
        const attempts = await listAttempts(deps.db, {
          instance_id: endpoint.instance_id,
          endpoint_id: endpoint.endpoint_id,
          event_id: query.event_id,
          before: query.before ? new Date(query.before) : undefined,
          limit: query.limit,
        });
        ctx.body = { success: true, attempts };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/webhooks/:id/replay',
      summary: 'Replay events or dead letters (dry run lists them)',
      auth: 'plugin',
      scope: 'webhooks:manage',
      body: replayRequest,
      response: replayResponse,
      async handler(ctx, input) {
        const endpoint = await ownEndpoint(ctx);
        const request = input.body();
        const options = {
          dry_run: request.dry_run ?? false,
          enable_endpoint: request.enable_endpoint,
          send_now: request.send_now,
        };
        if (request.event_id) {
          const event = await findEvent(deps.db, request.event_id);
          if (!event || event.instance_id !== endpoint.instance_id) throw notFound('Event not found');
          ctx.body = {
            success: true,
            ...(await replayEventToEndpoint(publisher, event, endpoint.endpoint_id, options)),
          };
          return;
        }
        const report = await replay(
          publisher,
          replaySelection(
            { since: request.since, until: request.until, event_types: request.event_types },
            { instance_id: endpoint.instance_id, endpoint_id: endpoint.endpoint_id },
          ),
          options,
        );
        ctx.body = { success: true, ...report };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/webhooks/:id/enable',
      summary: 'Re-enable an endpoint, optionally replaying what it missed',
      auth: 'plugin',
      scope: 'webhooks:manage',
      body: enableRequest,
      response: enableResponse,
      async handler(ctx, input) {
        const endpoint = await ownEndpoint(ctx);
        const request = input.body();
        const enabled = await enableAndOfferMissed(publisher, endpoint, request.replay_missed ?? false);
        ctx.body = {
          success: true,
          ...enabled,
          endpoint: publicEndpoint(enabled.endpoint ?? endpoint, callerInstance(ctx).site_url),
        };
      },
    }),
  ];
}
