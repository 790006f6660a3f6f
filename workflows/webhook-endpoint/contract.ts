// What callers need to know about an endpoint's delivery workflow, with no runtime imports: its type
// name, its id, its signal, its input and its activity's result.

export const webhookEndpointWorkflowType = 'webhookEndpointWorkflow';

/** Sent by publishers when they queue something for an endpoint whose drain is asleep. */
export const wakeSignalName = 'wake';

export interface EndpointDrainInput {
  instance_id: string;
  endpoint_id: string;
}

export interface EndpointWorkflowResult {
  drains: number;
}

/** Behaviour changes, each behind `patched(id)` so that runs started before replay the old path. */
export const endpointPatches = {
  /** Drains are numbered, timers named, and each drain's outcome shown as the run's current details. */
  visibleDrains: 'endpoint-visible-drains',
} as const;

export interface EndpointDrainResult {
  /** HTTP attempts made by this drain. */
  attempts: number;
  /** Deliveries that ended (delivered, gone, superseded, dead-lettered...). */
  ended: number;
  /** The last failed attempt of this drain, for operators: status or error, and which delivery. */
  last_failure?: string;
  /** Left queued for later: when the earliest is due (0: drain again now). Absent: nothing queued. */
  next_due_in_ms?: number;
}

/** One workflow per endpoint: Temporal UI shows an endpoint's drains under this id. */
export function endpointWorkflowId(endpoint: EndpointDrainInput): string {
  return `webhook-endpoint:${endpoint.instance_id}:${endpoint.endpoint_id}`;
}
