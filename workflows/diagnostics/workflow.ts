import { proxyActivities } from '@temporalio/workflow';
import type { DiagnosticActivities } from '../../activities/diagnostics';
import type { PingResult } from './contract';

const { describeWorker } = proxyActivities<DiagnosticActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

/** Round trip through the server, a worker and an activity: proves the pipeline is alive. */
export async function pingWorkflow(message: string): Promise<PingResult> {
  const worker = await describeWorker();
  return { message: `pong: ${message}`, worker };
}
