// The reconciliation workflow's contract: run by a Temporal Schedule (src/temporal/schedules.ts).

export const reconciliationWorkflowType = 'reconcilePaymentsWorkflow';

export interface ReconciliationInput {
  /** How far back to look at Stripe (default 3 days: Stripe's own retry window). */
  lookback_ms?: number;
}

export interface ReconciliationResult {
  rechecked: string[];
}
