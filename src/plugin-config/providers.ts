// The AI providers a plugin can be configured for, with what the plugin needs to call them. Model
// lists are suggestions for settings screens: operators may set any model name.

export const providerIds = ['openai', 'novita'] as const;

export type ProviderId = (typeof providerIds)[number];

/** What plugins generate: each has its own model (and rewrite falls back to the article model). */
export const tasks = ['article', 'image', 'rewrite'] as const;

export type Task = (typeof tasks)[number];

export interface ProviderInfo {
  id: ProviderId;
  name: string;
  base_url: string;
  models: Record<Task, string[]>;
  defaults: {
    model_article: string;
    model_image: string;
    max_tokens: number;
    temperature: number;
  };
}

const catalogue: Record<ProviderId, ProviderInfo> = {
  openai: {
    id: 'openai',
    name: 'OpenAI',
    base_url: 'https://api.openai.com/v1',
    models: {
      article: ['gpt-4o', 'gpt-4o-mini', 'gpt-4-turbo', 'gpt-4', 'gpt-3.5-turbo'],
      image: ['dall-e-3', 'dall-e-2'],
      rewrite: ['gpt-4o', 'gpt-4o-mini', 'gpt-4-turbo', 'gpt-4', 'gpt-3.5-turbo'],
    },
    defaults: { model_article: 'gpt-4o', model_image: 'dall-e-3', max_tokens: 2000, temperature: 0.7 },
  },
  novita: {
    id: 'novita',
    name: 'Novita AI',
    base_url: 'https://api.novita.ai/openai/v1',
    models: {
      article: ['deepseek/deepseek-r1', 'deepseek/deepseek-v3', 'meta-llama/llama-3.1-70b-instruct'],
      image: ['dall-e-3'],
      rewrite: ['deepseek/deepseek-r1', 'deepseek/deepseek-v3', 'meta-llama/llama-3.1-70b-instruct'],
    },
    defaults: {
      model_article: 'deepseek/deepseek-r1',
      model_image: 'dall-e-3',
      max_tokens: 2000,
      temperature: 0.7,
    },
  },
};

/** The provider plugins get when neither the instance nor the operator picked one. */
export const fallbackProvider: ProviderId = 'openai';

export function providerInfo(id: ProviderId): ProviderInfo {
  return catalogue[id];
}

export function allProviders(): ProviderInfo[] {
  return providerIds.map((id) => catalogue[id]);
}
