// The ping workflow's contract: a round trip through the server, a worker and an activity.

export const pingWorkflowType = 'pingWorkflow';

export interface PingResult {
  message: string;
  worker: string;
}
