import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { grantExpiryWorkflowId, grantExpiryWorkflowType } from '../../workflows/grant-expiry/contract';
import type { WorkflowStarter } from '../temporal/starter';
import type { GrantExpiryInput, LedgerEntry } from './types';

export function grantExpiryInput(grant: LedgerEntry): GrantExpiryInput {
  if (!grant.expires_at) throw new Error(`Grant ${grant.transaction_id} does not expire`);
  return {
    account_id: grant.account_id,
    instance_id: grant.instance_id,
    user_id: grant.user_id,
    grant_entry_id: grant._id,
    grant_transaction_id: grant.transaction_id,
    credit_type: grant.credit_type,
    amount: grant.delta,
    expires_at: grant.expires_at.toISOString(),
  };
}

/**
 * The ledger's `onExpiringGrant`: starts the timer workflow for a grant, or finds it already there.
 * A replayed grant calls it again, so a start lost to a crash is made good by the caller's retry.
 */
export function grantExpiryScheduler(workflows: WorkflowStarter) {
  return async (grant: LedgerEntry): Promise<void> => {
    try {
      await workflows.start(grantExpiryWorkflowType, {
        workflowId: grantExpiryWorkflowId(grant.transaction_id),
        staticSummary: `Expire what is left of ${grant.delta} ${grant.credit_type} credits (grant ${grant.transaction_id}) at ${grant.expires_at?.toISOString()}`,
        args: [grantExpiryInput(grant)],
        // Also after the run has finished: an old grant replayed later must not expire twice
        // (the ledger key would refuse it anyway; this spares the pointless run).
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  };
}
