import { patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { LedgerActivities } from '../../activities/ledger';
import {
  type GrantExpiryInput,
  type GrantExpiryResult,
  grantExpiryFailures,
  grantExpiryPatches,
} from './contract';

const { expireGrant } = proxyActivities<LedgerActivities>({
  startToCloseTimeout: '30 seconds',
  // Ledger writes are keyed by the grant, so retrying is always safe; keep trying through outages.
  retry: {
    initialInterval: '1 second',
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: [grantExpiryFailures.grantNotFound],
  },
});

/** The timer of one expiring grant (workflow id `grant-expiry:<grant transaction id>`). */
export async function grantExpiryWorkflow(input: GrantExpiryInput): Promise<GrantExpiryResult> {
  // Workflow time is deterministic; a durable timer survives worker and server restarts.
  const named = patched(grantExpiryPatches.namedTimer);
  const wait = Date.parse(input.expires_at) - Date.now();
  if (wait > 0)
    await (named ? sleep(wait, { summary: `Until the grant expires (${input.expires_at})` }) : sleep(wait));
  return expireGrant(input);
}
