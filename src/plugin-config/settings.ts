import type { ProviderId } from './providers';

// The settings an operator (globally or for one instance) or a plugin (for itself) may set for a
// provider. Every field is optional: what one level leaves unset comes from the level below it.

export interface ProviderSettingsFields {
  /** Plain text only in memory; stored sealed by the secret box. */
  api_key?: string;
  model_article?: string;
  model_image?: string;
  /** Defaults to the article model. */
  model_rewrite?: string;
  max_tokens?: number;
  temperature?: number;
  system_prompt_article?: string;
  system_prompt_rewrite?: string;
  image_quality?: 'standard' | 'hd';
  rewrite_strategies?: string[];
}

export const settingsFieldNames = [
  'api_key',
  'model_article',
  'model_image',
  'model_rewrite',
  'max_tokens',
  'temperature',
  'system_prompt_article',
  'system_prompt_rewrite',
  'image_quality',
  'rewrite_strategies',
] as const satisfies readonly (keyof ProviderSettingsFields)[];

/** A change: a value sets a field, `null` clears it (it then comes from the level below). */
export type SettingsPatch = { [K in keyof ProviderSettingsFields]?: ProviderSettingsFields[K] | null };

export type SettingsScope = { kind: 'global' } | { kind: 'instance'; instance_id: string };

export type ChangedBy = 'operator' | 'plugin';

/** One level's settings for one provider, as stored (the key already opened). */
export interface StoredSettings extends ProviderSettingsFields {
  provider: ProviderId;
  scope: 'global' | 'instance';
  instance_id: string | null;
  /** When this level last picked this provider as its active one; the latest pick wins. */
  activated_at?: Date;
  updated_at: Date;
  updated_by: ChangedBy;
}

/** Both levels an instance reads from, per provider. */
export interface SettingsLevels {
  global: Partial<Record<ProviderId, StoredSettings>>;
  instance: Partial<Record<ProviderId, StoredSettings>>;
}
