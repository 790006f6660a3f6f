// Why a purchase cannot begin. The HTTP layer answers each (src/http/error-map.ts); nothing here
// knows about HTTP.

/** No Stripe key is configured: nothing can be sold. */
export class PaymentNotConfiguredError extends Error {
  override name = 'PaymentNotConfiguredError';
  constructor() {
    super('Payment processing not configured');
  }
}

/** The package does not exist or is not on sale. */
export class PackageNotFoundError extends Error {
  override name = 'PackageNotFoundError';
  constructor(readonly package_id: string) {
    super('No such package');
  }
}

/** The request names another credit type than the package's. */
export class PackageCreditTypeError extends Error {
  override name = 'PackageCreditTypeError';
  constructor(readonly package_credit_type: string) {
    super(`Invalid fields: credit_type (package is for ${package_credit_type})`);
  }
}

/** The client's price is not the package's (the server never charges what the client says). */
export class AmountMismatchError extends Error {
  override name = 'AmountMismatchError';
  constructor(
    readonly package_id: string,
    readonly expected: { amount: number; currency: string },
  ) {
    super(`Package ${package_id} costs ${expected.amount} ${expected.currency}`);
  }
}
