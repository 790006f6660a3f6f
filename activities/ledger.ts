import { ApplicationFailure } from '@temporalio/common';
import { GrantNotFoundError } from '../src/ledger/errors';
import type { Ledger } from '../src/ledger/ledger';
import type { GrantExpiryInput } from '../src/ledger/types';

export function createLedgerActivities(deps: { ledger: Ledger }) {
  return {
    /** Appends the grant's `expire` entry (once, whatever the retries). */
    async expireGrant(
      input: GrantExpiryInput,
    ): Promise<{ expired: number; transaction_id: string; replayed: boolean }> {
      try {
        const { entry, replayed } = await deps.ledger.expireGrant(input);
        return { expired: 0 - entry.delta, transaction_id: entry.transaction_id, replayed };
      } catch (error) {
        if (error instanceof GrantNotFoundError) {
          throw ApplicationFailure.nonRetryable(error.message, 'GrantNotFoundError');
        }
        throw error;
      }
    },
  };
}

export type LedgerActivities = ReturnType<typeof createLedgerActivities>;
