import type { CreditPackage } from './types';

// The catalogue a fresh install starts with: one small and one larger pack per credit type in JPY
// (¥750 for 10 articles, the price the existing plugin shows) and one small pack in USD (cents).
// Operators change them through /admin/v1/packages; seeding never overwrites those edits.

const catalogue: Record<string, { label: string; jpy10: number; jpy50: number; usd10: number }> = {
  article: { label: 'Article', jpy10: 750, jpy50: 3300, usd10: 500 },
  image: { label: 'Image', jpy10: 1000, jpy50: 4500, usd10: 700 },
  rewrite: { label: 'Rewrite', jpy10: 500, jpy50: 2200, usd10: 350 },
};

// The ids and prices the WordPress plugin falls back to when it cannot find a package (its
// PaymentIntent handler hard-codes them), so a fresh install sells exactly what the plugin shows.
const pluginFallbacks: Array<{ id: string; type: string; name: string; credits: number; jpy: number }> = [
  { id: 'article_starter', type: 'article', name: 'Article starter', credits: 10, jpy: 750 },
  { id: 'image_starter', type: 'image', name: 'Image starter', credits: 20, jpy: 300 },
  { id: 'rewrite_starter', type: 'rewrite', name: 'Rewrite basic', credits: 100, jpy: 9800 },
  { id: 'rewrite_pro', type: 'rewrite', name: 'Rewrite premium', credits: 500, jpy: 39800 },
  { id: 'rewrite_business', type: 'rewrite', name: 'Rewrite enterprise', credits: 2000, jpy: 129800 },
];

export function defaultPackages(creditTypes: readonly string[]): CreditPackage[] {
  const fallbacks = pluginFallbacks
    .filter((fallback) => creditTypes.includes(fallback.type))
    .map((fallback) => ({
      id: fallback.id,
      name: fallback.name,
      credit_type: fallback.type,
      credits: fallback.credits,
      bonus_credits: 0,
      price: { amount: fallback.jpy, currency: 'JPY' },
      active: true,
      stripe_price_id: null,
    }));
  return [...fallbacks, ...generatedPackages(creditTypes)];
}

function generatedPackages(creditTypes: readonly string[]): CreditPackage[] {
  return creditTypes.flatMap((type) => {
    const known = catalogue[type];
    if (!known) return [];
    const pack = (
      id: string,
      name: string,
      credits: number,
      bonus: number,
      amount: number,
      currency: string,
    ) => ({
      id,
      name,
      credit_type: type,
      credits,
      bonus_credits: bonus,
      price: { amount, currency },
      active: true,
      stripe_price_id: null,
    });
    return [
      pack(`pkg_${type}_10`, `${known.label} 10`, 10, 0, known.jpy10, 'JPY'),
      pack(`pkg_${type}_50`, `${known.label} 50 (+5 bonus)`, 50, 5, known.jpy50, 'JPY'),
      pack(`pkg_${type}_10_usd`, `${known.label} 10 (USD)`, 10, 0, known.usd10, 'USD'),
    ];
  });
}
