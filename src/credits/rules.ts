// The credit rules, each in one place. Pure functions (no I/O, no clock): the ledger, the purchase
// activities and the purchase workflow all call these, and test/credits/rules.test.ts pins them.

/** What a paid package grants: its credits and its bonus. */
export function creditsForPackage(pack: { credits: number; bonus_credits: number }): number {
  return pack.credits + pack.bonus_credits;
}

/** The welcome grants a new account gets, per type: the configured amounts above zero. */
export function welcomeGrants(configured: Record<string, number> | undefined): Array<[string, number]> {
  return Object.entries(configured ?? {}).filter(([, amount]) => amount > 0);
}

/**
 * Credits to take back when Stripe says `amountRefunded` of a purchase was refunded in total:
 * proportional, rounded up (a partial refund never leaves a fraction of a credit behind), never
 * more than the purchase granted.
 */
export function creditsForRefund(
  purchase: { credits: number; amount: number },
  amountRefunded: number,
): number {
  if (amountRefunded >= purchase.amount) return purchase.credits;
  return Math.min(purchase.credits, Math.ceil((purchase.credits * amountRefunded) / purchase.amount));
}

/**
 * Credits a dispute holds until it closes: what the purchase granted and refunds have not already
 * taken back (the balance may go below zero; spending is refused then).
 */
export function creditsHeldForDispute(purchase: { credits: number }, creditsAlreadyRemoved: number): number {
  return Math.max(0, purchase.credits - creditsAlreadyRemoved);
}
