// Stripe amounts are integers in the currency's minor unit. For these currencies the minor unit is
// the major unit (750 JPY is ¥750, not ¥7.50), per https://docs.stripe.com/currencies#zero-decimal.
const zeroDecimalCurrencies = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);

// Three-decimal currencies: Stripe still takes minor units (1000 = 1 BHD).
const threeDecimalCurrencies = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** Stripe's currency codes are lowercase ISO 4217; callers may hold them in either case. */
export function normalizeCurrency(currency: string): string {
  return currency.trim().toLowerCase();
}

export function isZeroDecimal(currency: string): boolean {
  return zeroDecimalCurrencies.has(normalizeCurrency(currency));
}

/** How many digits of an amount in minor units sit after the decimal point. */
export function minorUnitDigits(currency: string): 0 | 2 | 3 {
  const code = normalizeCurrency(currency);
  if (zeroDecimalCurrencies.has(code)) return 0;
  if (threeDecimalCurrencies.has(code)) return 3;
  return 2;
}

/** A human-readable amount for pages and logs, e.g. `750 JPY` or `12.50 USD`. Never used for maths. */
export function formatMinorUnits(amount: number, currency: string): string {
  const digits = minorUnitDigits(currency);
  const major = digits === 0 ? String(amount) : (amount / 10 ** digits).toFixed(digits);
  return `${major} ${normalizeCurrency(currency).toUpperCase()}`;
}
