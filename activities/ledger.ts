import { ApplicationFailure } from '@temporalio/common';
import { GrantNotFoundError } from '../src/ledger/errors';
import type { Ledger } from '../src/ledger/ledger';
import type { GrantExpiryInput } from '../src/ledger/types';
import type { CreditsUpdate } from '../src/webhooks/credits-updated';

export function createLedgerActivities(deps: {
  ledger: Ledger;
  /** Tells the plugin (credits_updated); keyed by the ledger entry, so retries publish once. */
  publishCreditsUpdated?: (update: CreditsUpdate) => Promise<void>;
}) {
  return {
    /** Appends the grant's `expire` entry (once, whatever the retries). */
    async expireGrant(
      input: GrantExpiryInput,
    ): Promise<{ expired: number; transaction_id: string; replayed: boolean }> {
      try {
        const { entry, balances, replayed } = await deps.ledger.expireGrant(input);
        if (entry.delta !== 0) {
          await deps.publishCreditsUpdated?.({
            instance_id: entry.instance_id,
            user_id: entry.user_id,
            user_email: await deps.ledger.userEmail(entry.account_id),
            delta: entry.delta,
            reason: 'expired',
            ledger_seq: entry.seq,
            balances,
          });
        }
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
