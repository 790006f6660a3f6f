import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Logger } from '../logger';

export const reconciliationScheduleId = 'stripe-reconciliation';

/**
 * Creates the reconciliation schedule once (every worker calls this at start; the first one wins).
 * A missed webhook is fulfilled within one period.
 */
export async function ensureReconciliationSchedule(
  client: Client,
  options: { taskQueue: string; everySeconds: number; logger: Logger },
): Promise<void> {
  try {
    await client.schedule.create({
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
    options.logger.info({ every_seconds: options.everySeconds }, 'reconciliation schedule created');
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
}
