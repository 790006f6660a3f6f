import { z } from 'zod';
import {
  effectiveSettingsView,
  type StoredSettingsView,
  storedSettingsView,
} from '../../plugin-config/admin-view';
import {
  allProviders,
  type ProviderId,
  providerIds,
  providerInfo,
  type Task,
  tasks,
} from '../../plugin-config/providers';
import { activeProvider, resolveSettings, taskConfig, usableProviders } from '../../plugin-config/resolve';
import { type SettingsPatch, type SettingsScope, settingsFieldNames } from '../../plugin-config/settings';
import { providerSettingsStore } from '../../plugin-config/store';
import { findInstance } from '../../tenancy/instances';
import { configUpdatedNews } from '../../webhooks/broadcast';
import { notify } from '../../webhooks/notify';
import { webhookPublisher } from '../../webhooks/publish';
import { type AppDeps, callerInstance } from '../context';
import { ApiError, notFound } from '../errors';
import { type Route, route } from '../route';
import { instanceIdField } from '../schemas/common';

// AI provider settings for plugins (`/api/v1/config/provider` and friends) and for operators
// (`/admin/v1/config/provider`). The logic lives in src/plugin-config; this file is the wire format.

// ---- request schemas ----

const providerField = z.preprocess(
  (value) => (typeof value === 'string' ? value.trim().toLowerCase() : value),
  z.enum(providerIds, { message: `expected one of ${providerIds.join(', ')}` }),
);

/** `?provider=` left empty means "not given" (the instance's active provider). */
const providerQueryField = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
  providerField.optional(),
);

/** WordPress options often come back as strings: "2000" is 2000. */
const numeric = (schema: z.ZodNumber) =>
  z.preprocess(
    (value) =>
      typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
        ? Number(value)
        : value,
    schema,
  );

/** An empty string clears the key like null does: the operator's key applies again. */
const apiKeyField = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() === '' ? null : value),
  z.string().trim().max(512).nullable(),
);
const modelField = z.string().trim().min(1).max(200);
const maxTokensField = numeric(z.number().int().min(1).max(1_000_000));
const temperatureField = numeric(z.number().min(0).max(2));
const promptField = z.string().max(20_000);

export const providerQuery = z.object({ provider: providerQueryField });

/** What the plugin saves as its own settings; `null` (or an empty key) clears a field. */
export const putProviderRequest = z.object({
  provider: providerField,
  api_key: apiKeyField.optional(),
  model_article: modelField.nullable().optional(),
  model_image: modelField.nullable().optional(),
  max_tokens: maxTokensField.nullable().optional(),
  temperature: temperatureField.nullable().optional(),
});

export const adminProviderQuery = z.object({
  provider: providerQueryField,
  instance_id: instanceIdField.optional(),
});

/** The operator's settings: global, or for one instance with `instance_id`. */
export const adminPutProviderRequest = putProviderRequest.extend({
  instance_id: instanceIdField.optional(),
  model_rewrite: modelField.nullable().optional(),
  system_prompt_article: promptField.nullable().optional(),
  system_prompt_rewrite: promptField.nullable().optional(),
  image_quality: z.enum(['standard', 'hd']).nullable().optional(),
  rewrite_strategies: z.array(z.string().trim().min(1).max(64)).max(50).nullable().optional(),
  /** true: this becomes the level's active provider; false: it stops being so. */
  active: z.boolean().optional(),
});

// ---- response schemas ----

const providerIdOut = z.enum(providerIds);

export const providerConfigResponse = z.object({
  success: z.literal(true),
  provider: providerIdOut,
  provider_name: z.string(),
  /** Empty when no key is set at either level. */
  api_key: z.string(),
  has_api_key: z.boolean(),
  model_article: z.string(),
  model_image: z.string(),
  model_rewrite: z.string(),
  max_tokens: z.number().int(),
  temperature: z.number(),
  base_url: z.string(),
});

export const taskConfigResponse = z.object({
  success: z.literal(true),
  provider: providerIdOut,
  provider_name: z.string(),
  config: z.object({
    api_key: z.string(),
    model: z.string(),
    temperature: z.number(),
    max_tokens: z.number().int(),
    system_prompt: z.string().optional(),
    quality: z.enum(['standard', 'hd']).optional(),
    strategies: z.array(z.string()).optional(),
    base_url: z.string(),
  }),
  models: z.array(z.string()),
});

export const providersResponse = z.object({
  success: z.literal(true),
  default_provider: providerIdOut,
  all_providers: z.array(
    z.object({
      provider: providerIdOut,
      provider_name: z.string(),
      base_url: z.string(),
      models: z.object({
        article: z.array(z.string()),
        image: z.array(z.string()),
        rewrite: z.array(z.string()),
      }),
    }),
  ),
  /** The providers this instance can call now (a key is set for it). */
  active_providers: z.array(
    z.object({
      provider: providerIdOut,
      provider_name: z.string(),
      base_url: z.string(),
      model_article: z.string(),
      model_image: z.string(),
      default: z.boolean(),
    }),
  ),
});

export const openAiConfigResponse = z.object({
  success: z.literal(true),
  api_key: z.string(),
  model_article: z.string(),
  model_image: z.string(),
  max_tokens: z.number().int(),
  temperature: z.number(),
});

export const putProviderResponse = z.object({
  success: z.literal(true),
  provider: providerIdOut,
  provider_name: z.string(),
  updated_at: z.string(),
});

const storedSettingsSchema = z.object({
  api_key: z.string().nullable(),
  model_article: z.string().nullable(),
  model_image: z.string().nullable(),
  model_rewrite: z.string().nullable(),
  max_tokens: z.number().int().nullable(),
  temperature: z.number().nullable(),
  system_prompt_article: z.string().nullable(),
  system_prompt_rewrite: z.string().nullable(),
  image_quality: z.enum(['standard', 'hd']).nullable(),
  rewrite_strategies: z.array(z.string()).nullable(),
  activated_at: z.string().nullable(),
  updated_at: z.string(),
  updated_by: z.enum(['operator', 'plugin']),
}) satisfies z.ZodType<StoredSettingsView>;

const effectiveSettingsSchema = z.object({
  api_key: z.string().nullable(),
  model_article: z.string(),
  model_image: z.string(),
  model_rewrite: z.string(),
  max_tokens: z.number().int(),
  temperature: z.number(),
  system_prompt_article: z.string().optional(),
  system_prompt_rewrite: z.string().optional(),
  image_quality: z.enum(['standard', 'hd']),
  rewrite_strategies: z.array(z.string()).optional(),
});

export const adminProviderResponse = z.object({
  success: z.literal(true),
  instance_id: z.string().nullable(),
  /** What a plugin gets without `?provider=` (for this instance, when one is named). */
  default_provider: providerIdOut,
  providers: z.array(
    z.object({
      provider: providerIdOut,
      provider_name: z.string(),
      base_url: z.string(),
      global: storedSettingsSchema.nullable(),
      /** The instance's own settings (set by the plugin or the operator); null without instance_id. */
      override: storedSettingsSchema.nullable(),
      /** What the plugin reads (the instance's when named, else what an instance without its own gets). */
      effective: effectiveSettingsSchema.nullable(),
    }),
  ),
});

export const adminPutProviderResponse = z.object({
  success: z.literal(true),
  provider: providerIdOut,
  provider_name: z.string(),
  instance_id: z.string().nullable(),
  settings: storedSettingsSchema,
  effective: effectiveSettingsSchema,
  broadcast: z.object({ broadcast_id: z.string(), workflow_id: z.string() }).nullable(),
});

// ---- routes ----

function patchFrom(body: Partial<Record<(typeof settingsFieldNames)[number], unknown>>): SettingsPatch {
  const patch: Record<string, unknown> = {};
  for (const field of settingsFieldNames) if (body[field] !== undefined) patch[field] = body[field];
  return patch as SettingsPatch;
}

const noSettings = (provider: ProviderId) =>
  notFound(`No ${providerInfo(provider).name} settings are configured for this site`);

/** The AI provider routes: the fixed `/config/...` paths, declared ahead of the generic `/config/:key`. */
export function providerConfigRoutes(deps: AppDeps): Route[] {
  const store = providerSettingsStore(deps.db, deps.secretBox);

  const pluginLevels = async (instanceId: string, requested: ProviderId | undefined) => {
    const levels = await store.load(instanceId);
    return { levels, provider: requested ?? activeProvider(levels) };
  };

  const taskRoute = (task: Task) =>
    route({
      method: 'get',
      path: `/api/v1/config/${task}`,
      summary: `AI settings for ${task} generation`,
      auth: 'plugin',
      scope: 'config:read',
      query: providerQuery,
      response: taskConfigResponse,
      async handler(ctx, input) {
        const { provider: requested } = input.query();
        const { levels, provider } = await pluginLevels(callerInstance(ctx).instance_id, requested);
        const settings = resolveSettings(levels, provider);
        // Rewrites run unattended (the auto-rewriter): without a key there is nothing to hand out.
        if (task === 'rewrite' && !settings?.api_key) {
          throw new ApiError(
            404,
            'no_provider_key',
            `No ${providerInfo(provider).name} API key is configured for rewrites`,
          );
        }
        if (!settings) throw noSettings(provider);
        ctx.body = taskConfigResponse.parse({
          success: true,
          provider,
          provider_name: settings.provider_name,
          config: taskConfig(settings, task),
          models: providerInfo(provider).models[task],
        });
      },
    });

  return [
    route({
      method: 'get',
      path: '/api/v1/config/provider',
      summary: 'AI provider settings for this instance',
      auth: 'plugin',
      scope: 'config:read',
      query: providerQuery,
      response: providerConfigResponse,
      async handler(ctx, input) {
        const { provider: requested } = input.query();
        const { levels, provider } = await pluginLevels(callerInstance(ctx).instance_id, requested);
        const settings = resolveSettings(levels, provider);
        if (!settings) throw noSettings(provider);
        ctx.body = providerConfigResponse.parse({
          success: true,
          provider,
          provider_name: settings.provider_name,
          api_key: settings.api_key ?? '',
          has_api_key: settings.api_key !== null,
          model_article: settings.model_article,
          model_image: settings.model_image,
          model_rewrite: settings.model_rewrite,
          max_tokens: settings.max_tokens,
          temperature: settings.temperature,
          base_url: settings.base_url,
        });
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/config/provider',
      summary: 'Save AI provider settings for this instance',
      auth: 'plugin',
      body: putProviderRequest,
      response: putProviderResponse,
      async handler(ctx, input) {
        const instance = callerInstance(ctx);
        const body = input.body();
        const patch = patchFrom(body);
        // Saving settings for a provider is also the plugin choosing it.
        const saved = await store.write(
          { kind: 'instance', instance_id: instance.instance_id },
          body.provider,
          patch,
          { by: 'plugin', activate: true },
        );
        ctx.state.log.info(
          { provider: body.provider, fields: Object.keys(patch) },
          'plugin saved its provider settings',
        );
        ctx.body = putProviderResponse.parse({
          success: true,
          provider: body.provider,
          provider_name: providerInfo(body.provider).name,
          updated_at: saved.updated_at.toISOString(),
        });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/config/providers',
      summary: 'Known AI providers and those this instance can use',
      auth: 'plugin',
      scope: 'config:read',
      response: providersResponse,
      async handler(ctx) {
        const levels = await store.load(callerInstance(ctx).instance_id);
        const chosen = activeProvider(levels);
        ctx.body = providersResponse.parse({
          success: true,
          default_provider: chosen,
          all_providers: allProviders().map((info) => ({
            provider: info.id,
            provider_name: info.name,
            base_url: info.base_url,
            models: info.models,
          })),
          active_providers: usableProviders(levels).map((settings) => ({
            provider: settings.provider,
            provider_name: settings.provider_name,
            base_url: settings.base_url,
            model_article: settings.model_article,
            model_image: settings.model_image,
            default: settings.provider === chosen,
          })),
        });
      },
    }),
    // Deprecated: the OpenAI settings in the shape of the original dashboard's /config/openai.
    route({
      method: 'get',
      path: '/api/v1/config/openai',
      summary: 'OpenAI settings (deprecated: use /config/provider)',
      auth: 'plugin',
      scope: 'config:read',
      response: openAiConfigResponse,
      async handler(ctx) {
        const levels = await store.load(callerInstance(ctx).instance_id);
        const settings = resolveSettings(levels, 'openai');
        if (!settings) throw noSettings('openai');
        ctx.body = openAiConfigResponse.parse({
          success: true,
          api_key: settings.api_key ?? '',
          model_article: settings.model_article,
          model_image: settings.model_image,
          max_tokens: settings.max_tokens,
          temperature: settings.temperature,
        });
      },
    }),
    ...tasks.map(taskRoute),
    route({
      method: 'get',
      path: '/admin/v1/config/provider',
      summary: 'AI provider settings (keys masked)',
      auth: 'admin',
      query: adminProviderQuery,
      response: adminProviderResponse,
      async handler(ctx, input) {
        const query = input.query();
        if (query.instance_id !== undefined && !(await findInstance(deps.db, query.instance_id))) {
          throw notFound('Instance not found');
        }
        const levels = await store.load(query.instance_id);
        const shown = query.provider ? [query.provider] : [...providerIds];
        ctx.body = adminProviderResponse.parse({
          success: true,
          instance_id: query.instance_id ?? null,
          default_provider: activeProvider(levels),
          providers: shown.map((provider) => {
            const info = providerInfo(provider);
            const global = levels.global[provider];
            const override = levels.instance[provider];
            const effective = resolveSettings(levels, provider);
            return {
              provider,
              provider_name: info.name,
              base_url: info.base_url,
              global: global ? storedSettingsView(global) : null,
              override: override ? storedSettingsView(override) : null,
              effective: effective ? effectiveSettingsView(effective) : null,
            };
          }),
        });
      },
    }),
    route({
      method: 'put',
      path: '/admin/v1/config/provider',
      summary: 'Set AI provider settings (config_updated)',
      auth: 'admin',
      body: adminPutProviderRequest,
      response: adminPutProviderResponse,
      async handler(ctx, input) {
        const body = input.body();
        const instanceId = body.instance_id;
        if (instanceId !== undefined && !(await findInstance(deps.db, instanceId))) {
          throw notFound('Instance not found');
        }
        const scope: SettingsScope =
          instanceId !== undefined ? { kind: 'instance', instance_id: instanceId } : { kind: 'global' };
        const patch = patchFrom(body);
        const saved = await store.write(scope, body.provider, patch, {
          by: 'operator',
          activate: body.active,
        });
        const levels = await store.load(instanceId);
        const effective = resolveSettings(levels, body.provider)!;
        // Field names only: values (the key above all) are never logged.
        ctx.state.log.info(
          {
            provider: body.provider,
            instance_id: instanceId ?? null,
            fields: Object.keys(patch),
            active: body.active,
          },
          'provider settings changed',
        );
        const broadcast = await notify(webhookPublisher(deps), ctx.state.log, {
          to: 'broadcast',
          ...configUpdatedNews(
            { key: 'provider', updated_at: saved.updated_at },
            instanceId !== undefined ? [instanceId] : undefined,
          ),
        });
        ctx.body = adminPutProviderResponse.parse({
          success: true,
          provider: body.provider,
          provider_name: providerInfo(body.provider).name,
          instance_id: instanceId ?? null,
          settings: storedSettingsView(saved),
          effective: effectiveSettingsView(effective),
          broadcast,
        });
      },
    }),
  ];
}
