import type {
  Client,
  WorkflowHandle,
  WorkflowSignalWithStartOptions,
  WorkflowStartOptions,
} from '@temporalio/client';
import type { Config } from '../config';

// The one way this backend starts and signals its workflows. It knows the task queue (the only code
// besides the worker that reads TEMPORAL_TASK_QUEUE), so a caller names the workflow by its
// contract's type name and gives its id and arguments.

/**
 * Every start names the run for people: `staticSummary` is the line Temporal UI shows for it (what
 * purchase, which endpoint), so it is required here.
 */
type Summarised<T> = Omit<T, 'taskQueue' | 'staticSummary'> & { staticSummary: string };

export interface WorkflowStarter {
  readonly client: Client;
  readonly taskQueue: string;
  start(workflowType: string, options: Summarised<WorkflowStartOptions>): Promise<WorkflowHandle>;
  /** Signals the run with this id, starting it first if none is running. Signals are named by string. */
  signalWithStart(workflowType: string, options: SignalWithStartOptions): Promise<WorkflowHandle>;
  handle(workflowId: string): WorkflowHandle;
}

export type SignalWithStartOptions = Summarised<WorkflowStartOptions> & {
  signal: string;
  signalArgs: unknown[];
};

export function workflowStarter(
  client: Client,
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE'>,
): WorkflowStarter {
  const taskQueue = config.TEMPORAL_TASK_QUEUE;
  return {
    client,
    taskQueue,
    start: (workflowType, options) => client.workflow.start(workflowType, { ...options, taskQueue }),
    signalWithStart: (workflowType, options) =>
      client.workflow.signalWithStart(workflowType, {
        ...options,
        taskQueue,
      } as WorkflowSignalWithStartOptions<unknown[]>),
    handle: (workflowId) => client.workflow.getHandle(workflowId),
  };
}
