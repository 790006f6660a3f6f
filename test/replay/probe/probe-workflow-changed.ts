import { proxyActivities, sleep } from '@temporalio/workflow';
import type { ProbeActivities } from './probe-workflow';

// The probe with a non-deterministic change: the same workflow type, its timer now before the
// activity. A run recorded from the original issued "schedule activity" first; replaying it here
// issues "start timer" first, which the SDK rejects with a DeterminismViolationError.

const { probeStep } = proxyActivities<ProbeActivities>({ startToCloseTimeout: '10 seconds' });

export async function replayProbeWorkflow(name: string): Promise<string> {
  await sleep(500);
  const greeting = await probeStep(name);
  return greeting;
}
