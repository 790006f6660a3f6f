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

/** What plugins see (`GET /api/v1/packages`): the contract's fields, nothing operator-only. */
export function publicPackage(pkg: CreditPackage) {
  const { id, name, credit_type, credits, bonus_credits, price, active } = pkg;
  return { id, name, credit_type, credits, bonus_credits, price, active };
}
