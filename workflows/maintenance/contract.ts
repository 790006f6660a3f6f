// The maintenance sweep's contract: run by a Temporal Schedule (src/temporal/schedules.ts).

export const maintenanceWorkflowType = 'maintenanceSweepWorkflow';

export interface MaintenanceResult {
  deliveries_restarted: number;
  grants_checked: number;
}
