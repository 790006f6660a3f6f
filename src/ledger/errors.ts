import type { Balances } from './types';

/** A deduction larger than the balance: nothing was written. Carries the balances to show the user. */
export class InsufficientCreditsError extends Error {
  /** The seq those balances are the state at (set once the ledger has confirmed it is the latest). */
  seq?: number;

  constructor(
    readonly credits: Balances,
    readonly credit_type: string,
    readonly requested: number,
  ) {
    super(
      `Not enough ${credit_type} credits: ${credits[credit_type] ?? 0} available, ${requested} requested`,
    );
    this.name = 'InsufficientCreditsError';
  }
}

/** The idempotency key was used before for a different request. */
export class IdempotencyConflictError extends Error {
  constructor(readonly idempotency_key: string) {
    super('This Idempotency-Key was already used with a different request');
    this.name = 'IdempotencyConflictError';
  }
}

/** Lost the race for the next sequence number too many times in a row; safe to retry later. */
export class LedgerBusyError extends Error {
  constructor(
    readonly account_id: string,
    readonly attempts: number,
  ) {
    super(`Account ${account_id} is busy: gave up after ${attempts} attempts`);
    this.name = 'LedgerBusyError';
  }
}

/** The expiry names a grant that is not in the ledger (or does not expire): retrying cannot help. */
export class GrantNotFoundError extends Error {
  constructor(readonly grant_transaction_id: string) {
    super(`No expiring grant ${grant_transaction_id} in the ledger`);
    this.name = 'GrantNotFoundError';
  }
}
