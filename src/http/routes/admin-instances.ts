import { z } from 'zod';
import {
  activatePendingInstance,
  findInstance,
  publicInstance,
  setInstanceStatus,
} from '../../tenancy/instances';
import { notify } from '../../webhooks/notify';
import { webhookPublisher } from '../../webhooks/publish';
import type { AppDeps } from '../context';
import { ApiError, notFound } from '../errors';
import { type Route, type RouteContext, route } from '../route';

export const disableInstanceRequest = z.object({ reason: z.string().min(1).max(500) });

export function adminInstanceRoutes(deps: AppDeps): Route[] {
  // The status change is what the operator asked for and stands on its own; the webhook telling the
  // plugin is stored first (notify.ts): null in the answer only when even that failed (logged).
  const tell = (
    ctx: RouteContext,
    instanceId: string,
    event: 'plugin_disabled' | 'plugin_enabled',
    data: Record<string, unknown>,
  ) =>
    notify(webhookPublisher(deps), ctx.state.log, { to: 'instance', instance_id: instanceId, event, data });

  return [
    route({
      method: 'post',
      path: '/admin/v1/instances/:id/disable',
      summary: 'Disable an instance (plugin_disabled)',
      auth: 'admin',
      body: disableInstanceRequest,
      async handler(ctx, input) {
        const { reason } = input.body();
        const updated = await setInstanceStatus(deps.db, ctx.params.id ?? '', 'disabled', reason);
        if (!updated) throw notFound('Instance not found');
        ctx.state.log.info({ instance_id: updated.instance_id, reason }, 'instance disabled');
        const webhook = await tell(ctx, updated.instance_id, 'plugin_disabled', {
          reason,
          disabled_at: updated.updated_at.toISOString(),
        });
        ctx.body = { success: true, instance: publicInstance(updated), webhook };
      },
    }),
    // REGISTRATION_MODE=approval (or a verification the operator vouches for): pending becomes active.
    route({
      method: 'post',
      path: '/admin/v1/instances/:id/approve',
      summary: 'Let a pending instance in (409 if it is not pending)',
      auth: 'admin',
      async handler(ctx) {
        const instanceId = ctx.params.id ?? '';
        const approved = await activatePendingInstance(deps.db, instanceId);
        if (!approved) {
          const instance = await findInstance(deps.db, instanceId);
          if (!instance) throw notFound('Instance not found');
          throw new ApiError(409, 'conflict', `This instance is ${instance.status}, not pending`);
        }
        ctx.state.log.info({ instance_id: instanceId }, 'instance approved');
        ctx.body = { success: true, instance: publicInstance(approved) };
      },
    }),
    route({
      method: 'post',
      path: '/admin/v1/instances/:id/enable',
      summary: 'Enable an instance (plugin_enabled)',
      auth: 'admin',
      async handler(ctx) {
        const pending = await findInstance(deps.db, ctx.params.id ?? '');
        if (pending?.status === 'pending') {
          throw new ApiError(
            409,
            'conflict',
            'This instance is pending: approve it (POST .../approve) instead',
          );
        }
        const updated = await setInstanceStatus(deps.db, ctx.params.id ?? '', 'active', undefined);
        if (!updated) throw notFound('Instance not found');
        ctx.state.log.info({ instance_id: updated.instance_id }, 'instance enabled');
        const webhook = await tell(ctx, updated.instance_id, 'plugin_enabled', {
          enabled_at: updated.updated_at.toISOString(),
        });
        ctx.body = { success: true, instance: publicInstance(updated), webhook };
      },
    }),
  ];
}
