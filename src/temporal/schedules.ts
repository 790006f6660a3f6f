import {
  type Client,
  ScheduleAlreadyRunning,
  type ScheduleOptions,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import type { Logger } from '../logger';

export const reconciliationScheduleId = 'stripe-reconciliation';
export const maintenanceScheduleId = 'maintenance-sweep';

/** Every 5 minutes: restarts webhook deliveries and grant-expiry timers whose start was lost. */
export async function ensureMaintenanceSchedule(
  client: Client,
  options: { taskQueue: string; logger: Logger },
) {
  await createOnce(client, options.logger, {
    scheduleId: maintenanceScheduleId,
    spec: { intervals: [{ every: '5 minutes' }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'maintenanceSweepWorkflow',
      taskQueue: options.taskQueue,
      args: [],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  });
}

async function createOnce(client: Client, logger: Logger, options: ScheduleOptions): Promise<void> {
  try {
    await client.schedule.create(options);
    logger.info({ schedule_id: options.scheduleId }, 'schedule created');
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
}

/**
 * Creates the reconciliation schedule once (every worker calls this at start; the first one wins).
 * A missed webhook is fulfilled within one period.
 */
export async function ensureReconciliationSchedule(
  client: Client,
  options: { taskQueue: string; everySeconds: number; logger: Logger },
): Promise<void> {
  await createOnce(client, options.logger, {
    scheduleId: reconciliationScheduleId,
    spec: { intervals: [{ every: `${options.everySeconds} seconds` }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'reconcilePaymentsWorkflow',
      taskQueue: options.taskQueue,
      args: [{}],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  });
}
