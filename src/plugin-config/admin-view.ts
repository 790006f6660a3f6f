import { maskSecret } from './mask';
import type { EffectiveSettings } from './resolve';
import type { StoredSettings } from './settings';

// What operators see: the same settings, every API key masked. Nothing here returns a plain key.

export interface StoredSettingsView {
  api_key: string | null;
  model_article: string | null;
  model_image: string | null;
  model_rewrite: string | null;
  max_tokens: number | null;
  temperature: number | null;
  system_prompt_article: string | null;
  system_prompt_rewrite: string | null;
  image_quality: 'standard' | 'hd' | null;
  rewrite_strategies: string[] | null;
  /** When this level last picked this provider as its active one (the latest pick wins). */
  activated_at: string | null;
  updated_at: string;
  updated_by: 'operator' | 'plugin';
}

export function storedSettingsView(settings: StoredSettings): StoredSettingsView {
  return {
    api_key: settings.api_key !== undefined ? maskSecret(settings.api_key) : null,
    model_article: settings.model_article ?? null,
    model_image: settings.model_image ?? null,
    model_rewrite: settings.model_rewrite ?? null,
    max_tokens: settings.max_tokens ?? null,
    temperature: settings.temperature ?? null,
    system_prompt_article: settings.system_prompt_article ?? null,
    system_prompt_rewrite: settings.system_prompt_rewrite ?? null,
    image_quality: settings.image_quality ?? null,
    rewrite_strategies: settings.rewrite_strategies ?? null,
    activated_at: settings.activated_at?.toISOString() ?? null,
    updated_at: settings.updated_at.toISOString(),
    updated_by: settings.updated_by,
  };
}

export type EffectiveSettingsView = Omit<EffectiveSettings, 'provider' | 'provider_name' | 'base_url'>;

export function effectiveSettingsView(settings: EffectiveSettings): EffectiveSettingsView {
  const { provider: _p, provider_name: _n, base_url: _b, api_key, ...rest } = settings;
  return { ...rest, api_key: api_key !== null ? maskSecret(api_key) : null };
}
