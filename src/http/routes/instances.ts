import Router from '@koa/router';
import { z } from 'zod';
import { publicInstance, updateInstance } from '../../tenancy/instances';
import { type AppContext, type AppDeps, type AppState, callerInstance } from '../context';
import { notFound } from '../errors';
import type { Guards } from '../guards';
import { emailField, siteUrlField, versionField } from '../schemas/common';
import { parseBody } from '../validate';

export const updateInstanceRequest = z.object({
  site_url: siteUrlField.optional(),
  admin_email: emailField.optional(),
  wordpress_version: versionField.optional(),
  plugin_version: versionField.optional(),
});

/** A plugin sees only itself: any other id is 404, the same as an id that does not exist. */
function ownInstance(ctx: AppContext) {
  const instance = callerInstance(ctx);
  if (ctx.params.id !== instance.instance_id) throw notFound('Instance not found');
  return instance;
}

export function instanceRoutes(deps: AppDeps, guards: Guards): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/instances' });

  router.get('/:id', guards.plugin(), async (ctx) => {
    ctx.body = { success: true, instance: publicInstance(ownInstance(ctx)) };
  });

  router.put('/:id', guards.plugin(), async (ctx) => {
    const instance = ownInstance(ctx);
    const patch = parseBody(ctx, updateInstanceRequest);
    const updated = await updateInstance(deps.db, instance.instance_id, patch);
    if (!updated) throw notFound('Instance not found');
    ctx.body = { success: true, instance: publicInstance(updated) };
  });

  return router;
}
