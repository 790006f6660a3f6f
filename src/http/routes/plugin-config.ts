import { z } from 'zod';
import { collectionNames } from '../../mongo/collections';
import { configUpdatedNews } from '../../webhooks/broadcast';
import { notify } from '../../webhooks/notify';
import { webhookPublisher } from '../../webhooks/publish';
import type { AppDeps } from '../context';
import { ApiError, notFound } from '../errors';
import { type Route, route } from '../route';
import { instanceIdField, storableJsonObject } from '../schemas/common';
import { providerConfigRoutes } from './provider-config';

interface PluginConfigDoc {
  key: string;
  value: Record<string, unknown>;
  updated_at: Date;
}

const configKey = z
  .string()
  .regex(/^[a-z0-9_-]{1,64}$/, { message: 'lowercase letters, digits, _ and - only' });

export const putConfigRequest = storableJsonObject;

/** `?instance_ids=a,b` tells only those instances (a staged rollout); default: every active instance. */
export const putConfigQuery = z.object({
  instance_ids: z
    .string()
    .transform((value) => value.split(',').filter((id) => id.length > 0))
    .pipe(z.array(instanceIdField).min(1).max(10_000))
    .optional(),
});

/** The plugin only sells in JPY (see README); the key decides live or test mode. */
export const stripeConfigResponse = z.object({
  success: z.literal(true),
  public_key: z.string(),
  currency: z.string(),
  test_mode: z.boolean(),
});

/** An operator-set value: `config` is whatever JSON object the operator saved under `key`. */
export const pluginConfigResponse = z.object({
  success: z.literal(true),
  key: z.string(),
  config: z.record(z.string(), z.unknown()),
  updated_at: z.iso.datetime(),
});

/**
 * Configuration plugins read: AI provider settings and the Stripe publishable key (fixed paths,
 * declared first so that `/config/:key` never shadows them), then operator-set values by key.
 */
export function pluginConfigRoutes(deps: AppDeps): Route[] {
  const configs = deps.db.collection<PluginConfigDoc>(collectionNames.pluginConfig);

  return [
    ...providerConfigRoutes(deps),
    route({
      method: 'get',
      path: '/api/v1/config/stripe',
      summary: 'The Stripe publishable key',
      auth: 'plugin',
      scope: 'config:read',
      response: stripeConfigResponse,
      async handler(ctx) {
        const publicKey = deps.config.STRIPE_PUBLISHABLE_KEY;
        if (!publicKey) throw new ApiError(404, 'no_stripe_key', 'No Stripe publishable key is configured');
        ctx.body = stripeConfigResponse.parse({
          success: true,
          public_key: publicKey,
          currency: 'JPY',
          test_mode: publicKey.startsWith('pk_test_'),
        });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/config/:key',
      summary: 'Operator-set plugin configuration',
      auth: 'plugin',
      scope: 'config:read',
      response: pluginConfigResponse,
      async handler(ctx) {
        const key = configKey.safeParse(ctx.params.key);
        const doc = key.success ? await configs.findOne({ key: key.data }) : null;
        if (!doc) throw notFound('No configuration under that key');
        ctx.body = {
          success: true,
          key: doc.key,
          config: doc.value,
          updated_at: doc.updated_at.toISOString(),
        };
      },
    }),
    route({
      method: 'put',
      path: '/admin/v1/config/:key',
      summary: 'Set plugin configuration; instances get config_updated',
      auth: 'admin',
      body: putConfigRequest,
      query: putConfigQuery,
      async handler(ctx, input) {
        const key = configKey.parse(ctx.params.key);
        const value = input.body();
        const { instance_ids: instanceIds } = input.query();
        const now = new Date();
        // Last write wins: operators edit config by hand, one at a time.
        await configs.updateOne(
          { key },
          { $set: { value, updated_at: now }, $setOnInsert: { key } },
          { upsert: true },
        );
        const broadcast = await notify(webhookPublisher(deps), ctx.state.log, {
          to: 'broadcast',
          ...configUpdatedNews({ key, updated_at: now }, instanceIds),
        });
        ctx.body = { success: true, key, config: value, updated_at: now.toISOString(), broadcast };
      },
    }),
  ];
}
