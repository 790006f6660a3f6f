import Router from '@koa/router';
import { z } from 'zod';
import { publicInstance, setInstanceStatus } from '../../tenancy/instances';
import type { AppDeps, AppState } from '../context';
import { notFound } from '../errors';
import type { Guards } from '../guards';
import { parseBody } from '../validate';

export const disableInstanceRequest = z.object({ reason: z.string().min(1).max(500) });

export function adminInstanceRoutes(deps: AppDeps, guards: Guards): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/admin/v1/instances' });
  router.use(guards.admin());

  router.post('/:id/disable', async (ctx) => {
    const { reason } = parseBody(ctx, disableInstanceRequest);
    const updated = await setInstanceStatus(deps.db, ctx.params.id ?? '', 'disabled', reason);
    if (!updated) throw notFound('Instance not found');
    ctx.state.log.info({ instance_id: updated.instance_id, reason }, 'instance disabled');
    ctx.body = { success: true, instance: publicInstance(updated) };
  });

  router.post('/:id/enable', async (ctx) => {
    const updated = await setInstanceStatus(deps.db, ctx.params.id ?? '', 'active', undefined);
    if (!updated) throw notFound('Instance not found');
    ctx.state.log.info({ instance_id: updated.instance_id }, 'instance enabled');
    ctx.body = { success: true, instance: publicInstance(updated) };
  });

  return router;
}
