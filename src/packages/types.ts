/** A credit package a plugin sells, as operators edit it. Money is in the currency's minor unit. */
export interface CreditPackage {
  id: string;
  name: string;
  credit_type: string;
  credits: number;
  bonus_credits: number;
  price: { amount: number; currency: string };
  active: boolean;
  /** The Stripe Price this package is sold as, when the operator links one. */
  stripe_price_id?: string | null;
}

export interface PackageDocument extends Omit<CreditPackage, 'id'> {
  _id: string;
  created_at: Date;
  updated_at: Date;
}

/**
 * What plugins see (`GET /api/v1/packages`, `package_updated`): the plugin's field names, the price
 * an integer in the currency's minor unit, nothing operator-only. `id` repeats `package_id` because
 * the plugin's PaymentIntent handler matches on either.
 */
export function publicPackage(pkg: CreditPackage) {
  return {
    package_id: pkg.id,
    id: pkg.id,
    name: pkg.name,
    credit_type: pkg.credit_type,
    credits: pkg.credits,
    bonus_credits: pkg.bonus_credits,
    total_credits: pkg.credits + pkg.bonus_credits,
    price: pkg.price.amount,
    currency: pkg.price.currency.toUpperCase(),
    active: pkg.active,
  };
}

/** The group a credit type's packages are listed under: `article` → `articles`. */
export const packageGroupName = (creditType: string) => `${creditType}s`;
