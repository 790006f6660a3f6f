import { proxyActivities } from '@temporalio/workflow';
import type { MaintenanceActivities } from '../../activities/maintenance';
import type { MaintenanceResult } from './contract';

const { restartStrandedDeliveries, ensureGrantExpiryTimers } = proxyActivities<MaintenanceActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * Run by a Temporal Schedule: restarts webhook deliveries and grant-expiry timers whose start was
 * lost (a crash or a Temporal outage right after the write that called for them).
 */
export async function maintenanceSweepWorkflow(): Promise<MaintenanceResult> {
  const deliveries_restarted = await restartStrandedDeliveries({ older_than_ms: 2 * 60_000 });
  const grants_checked = await ensureGrantExpiryTimers({ written_within_ms: 24 * 3600_000 });
  return { deliveries_restarted, grants_checked };
}
