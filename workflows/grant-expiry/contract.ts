import type { GrantExpiryInput } from '../../src/ledger/types';

// The grant-expiry workflow's contract: the durable timer of one expiring grant.

export type { GrantExpiryInput };

export const grantExpiryWorkflowType = 'grantExpiryWorkflow';

/** One per grant: the id comes from the grant, so duplicate starts collapse into one. */
export function grantExpiryWorkflowId(grantTransactionId: string): string {
  return `grant-expiry:${grantTransactionId}`;
}

export interface GrantExpiryResult {
  expired: number;
  transaction_id: string;
  replayed: boolean;
}

/** Behaviour changes, each behind `patched(id)` so that runs started before replay the old path. */
export const grantExpiryPatches = {
  /** The expiry timer carries a summary (Temporal UI shows what it waits for). */
  namedTimer: 'grant-expiry-named-timer',
} as const;

export const grantExpiryFailures = {
  /** The grant to expire is not in the ledger: nothing to take back, ever. */
  grantNotFound: 'GrantNotFoundError',
} as const;
