import Router from '@koa/router';
import { z } from 'zod';
import { recordGenerationEvents } from '../../analytics/generation-events';
import { type AppDeps, type AppState, callerInstance } from '../context';
import type { Guards } from '../guards';
import { creditTypeField, emailField, userIdField } from '../schemas/common';
import { parseBody } from '../validate';

export const generationEventRequest = (creditTypes: readonly string[]) =>
  z.object({
    event_id: z.string().min(1).max(255).optional(),
    user_id: userIdField,
    user_email: emailField,
    credit_type: creditTypeField(creditTypes),
    credits_used: z.number().int().nonnegative(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    timestamp: z.iso.datetime({ offset: true }).optional(),
  });

export const usageRequest = (creditTypes: readonly string[]) =>
  z.object({
    events: z.array(generationEventRequest(creditTypes)).max(1000, { message: 'at most 1000 events' }),
  });

/** Generation analytics from plugins: one event, or batches that may be resent. */
export function analyticsRoutes(deps: Pick<AppDeps, 'config' | 'db'>, guards: Guards): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/analytics' });

  const generationEvent = generationEventRequest(deps.config.CREDIT_TYPES);
  const usageBatch = usageRequest(deps.config.CREDIT_TYPES);

  router.post('/generation', guards.plugin('analytics:write'), async (ctx) => {
    const instance_id = callerInstance(ctx).instance_id;
    const event = parseBody(ctx, generationEvent);
    const accepted = await recordGenerationEvents(deps.db, instance_id, [event]);
    ctx.status = 201;
    ctx.body = { success: true, accepted };
  });

  router.post('/usage', guards.plugin('analytics:write'), async (ctx) => {
    const instance_id = callerInstance(ctx).instance_id;
    const { events } = parseBody(ctx, usageBatch);
    const accepted = await recordGenerationEvents(deps.db, instance_id, events);
    ctx.status = 201;
    ctx.body = { success: true, accepted };
  });

  return router;
}
