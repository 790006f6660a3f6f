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

export const grantExpiryFailures = {
  /** The grant to expire is not in the ledger: nothing to take back, ever. */
  grantNotFound: 'GrantNotFoundError',
} as const;
