import { fallbackProvider, type ProviderId, providerIds, providerInfo, type Task } from './providers';
import type { ProviderSettingsFields, SettingsLevels, StoredSettings } from './settings';

// What an instance gets: its own settings over the operator's, field by field, then the provider's
// defaults. Pure functions over what the store loaded.

export interface EffectiveSettings {
  provider: ProviderId;
  provider_name: string;
  base_url: string;
  /** Null when neither level holds a key. */
  api_key: string | null;
  model_article: string;
  model_image: string;
  model_rewrite: string;
  max_tokens: number;
  temperature: number;
  system_prompt_article?: string;
  system_prompt_rewrite?: string;
  image_quality: 'standard' | 'hd';
  rewrite_strategies?: string[];
}

function latestPick(level: Partial<Record<ProviderId, StoredSettings>>): ProviderId | undefined {
  let best: StoredSettings | undefined;
  for (const settings of Object.values(level)) {
    if (!settings?.activated_at) continue;
    if (!best || settings.activated_at > best.activated_at!) best = settings;
  }
  return best?.provider;
}

/** The instance's latest pick, else the operator's latest pick, else OpenAI. */
export function activeProvider(levels: SettingsLevels): ProviderId {
  return latestPick(levels.instance) ?? latestPick(levels.global) ?? fallbackProvider;
}

/** Null when nothing at all is set for the provider, at either level. */
export function resolveSettings(levels: SettingsLevels, provider: ProviderId): EffectiveSettings | null {
  const own = levels.instance[provider];
  const operator = levels.global[provider];
  if (!own && !operator) return null;
  const pick = <K extends keyof ProviderSettingsFields>(field: K): ProviderSettingsFields[K] =>
    own?.[field] ?? operator?.[field];
  const info = providerInfo(provider);
  const modelArticle = pick('model_article') ?? info.defaults.model_article;
  const systemPromptArticle = pick('system_prompt_article');
  const systemPromptRewrite = pick('system_prompt_rewrite');
  const strategies = pick('rewrite_strategies');
  return {
    provider,
    provider_name: info.name,
    base_url: info.base_url,
    api_key: pick('api_key') ?? null,
    model_article: modelArticle,
    model_image: pick('model_image') ?? info.defaults.model_image,
    model_rewrite: pick('model_rewrite') ?? modelArticle,
    max_tokens: pick('max_tokens') ?? info.defaults.max_tokens,
    temperature: pick('temperature') ?? info.defaults.temperature,
    ...(systemPromptArticle !== undefined ? { system_prompt_article: systemPromptArticle } : {}),
    ...(systemPromptRewrite !== undefined ? { system_prompt_rewrite: systemPromptRewrite } : {}),
    image_quality: pick('image_quality') ?? 'standard',
    ...(strategies !== undefined ? { rewrite_strategies: strategies } : {}),
  };
}

/** Providers this instance can actually call (a key is set at one level or the other). */
export function usableProviders(levels: SettingsLevels): EffectiveSettings[] {
  return providerIds
    .map((provider) => resolveSettings(levels, provider))
    .filter((settings): settings is EffectiveSettings => settings?.api_key != null);
}

export interface TaskConfig {
  api_key: string;
  model: string;
  temperature: number;
  max_tokens: number;
  system_prompt?: string;
  quality?: 'standard' | 'hd';
  strategies?: string[];
  base_url: string;
}

/** The `config` object of `GET /config/{article,image,rewrite}`. */
export function taskConfig(settings: EffectiveSettings, task: Task): TaskConfig {
  const common = {
    api_key: settings.api_key ?? '',
    temperature: settings.temperature,
    max_tokens: settings.max_tokens,
    base_url: settings.base_url,
  };
  switch (task) {
    case 'article':
      return {
        ...common,
        model: settings.model_article,
        ...(settings.system_prompt_article !== undefined
          ? { system_prompt: settings.system_prompt_article }
          : {}),
      };
    case 'image':
      return { ...common, model: settings.model_image, quality: settings.image_quality };
    case 'rewrite':
      return {
        ...common,
        model: settings.model_rewrite,
        ...(settings.system_prompt_rewrite !== undefined
          ? { system_prompt: settings.system_prompt_rewrite }
          : {}),
        ...(settings.rewrite_strategies !== undefined ? { strategies: settings.rewrite_strategies } : {}),
      };
  }
}
