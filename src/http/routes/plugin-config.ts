import Router from '@koa/router';
import { z } from 'zod';
import { collectionNames } from '../../mongo/collections';
import type { AppDeps, AppState } from '../context';
import { notFound } from '../errors';
import type { Guards } from '../guards';
import { parseBody } from '../validate';

interface PluginConfigDoc {
  key: string;
  value: Record<string, unknown>;
  updated_at: Date;
}

const configKey = z
  .string()
  .regex(/^[a-z0-9_-]{1,64}$/, { message: 'lowercase letters, digits, _ and - only' });

export const putConfigRequest = z.record(z.string(), z.unknown());

/** Operator-set configuration that plugins read (`GET /api/v1/config/openai`). */
export function pluginConfigRoutes(deps: AppDeps, guards: Guards): Router<AppState> {
  const router = new Router<AppState>();
  const configs = deps.db.collection<PluginConfigDoc>(collectionNames.pluginConfig);

  router.get('/api/v1/config/:key', guards.plugin('config:read'), async (ctx) => {
    const key = configKey.safeParse(ctx.params.key);
    const doc = key.success ? await configs.findOne({ key: key.data }) : null;
    if (!doc) throw notFound('No configuration under that key');
    ctx.body = { success: true, key: doc.key, config: doc.value, updated_at: doc.updated_at.toISOString() };
  });

  router.put('/admin/v1/config/:key', guards.admin(), async (ctx) => {
    const key = configKey.parse(ctx.params.key);
    const value = parseBody(ctx, putConfigRequest);
    const now = new Date();
    // Last write wins: operators edit config by hand, one at a time.
    await configs.updateOne(
      { key },
      { $set: { value, updated_at: now }, $setOnInsert: { key } },
      { upsert: true },
    );
    ctx.body = { success: true, key, config: value, updated_at: now.toISOString() };
  });

  return router;
}
