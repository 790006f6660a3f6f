import { ScheduleAlreadyRunning, type ScheduleOptions, ScheduleOverlapPolicy } from '@temporalio/client';
import { maintenanceWorkflowType } from '../../workflows/maintenance/contract';
import { reconciliationWorkflowType } from '../../workflows/reconciliation/contract';
import type { Logger } from '../logger';
import type { WorkflowStarter } from './starter';

export const reconciliationScheduleId = 'stripe-reconciliation';
export const maintenanceScheduleId = 'maintenance-sweep';

/** Every 5 minutes: restarts webhook deliveries and grant-expiry timers whose start was lost. */
export async function ensureMaintenanceSchedule(workflows: WorkflowStarter, logger: Logger) {
  await createOnce(workflows, logger, {
    scheduleId: maintenanceScheduleId,
    spec: { intervals: [{ every: '5 minutes' }] },
    action: {
      type: 'startWorkflow',
      workflowType: maintenanceWorkflowType,
      taskQueue: workflows.taskQueue,
      args: [],
      staticSummary: 'Maintenance sweep: restart webhook work and expiry timers whose start was lost',
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  });
}

/**
 * Creates the reconciliation schedule once (every worker calls this at start; the first one wins).
 * A missed webhook is fulfilled within one period.
 */
export async function ensureReconciliationSchedule(
  workflows: WorkflowStarter,
  options: { everySeconds: number; logger: Logger },
): Promise<void> {
  await createOnce(workflows, options.logger, {
    scheduleId: reconciliationScheduleId,
    spec: { intervals: [{ every: `${options.everySeconds} seconds` }] },
    action: {
      type: 'startWorkflow',
      workflowType: reconciliationWorkflowType,
      taskQueue: workflows.taskQueue,
      args: [{}],
      staticSummary: 'Reconciliation: ask Stripe for paid purchases not fulfilled here',
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  });
}

async function createOnce(
  workflows: WorkflowStarter,
  logger: Logger,
  options: ScheduleOptions,
): Promise<void> {
  try {
    await workflows.client.schedule.create(options);
    logger.info({ schedule_id: options.scheduleId }, 'schedule created');
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
}
