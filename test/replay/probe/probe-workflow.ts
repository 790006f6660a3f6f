import { proxyActivities, sleep } from '@temporalio/workflow';

// A workflow of the replay suite's own (never run by the real worker): one activity, then a timer.
// Its recorded history (replay-probe.history.pb, from test/replay/record-fixtures.ts) is replayed
// against this module and against the variants beside it, to show what the replay suite catches.

export const probeWorkflowType = 'replayProbeWorkflow';

export interface ProbeActivities {
  probeStep(name: string): Promise<string>;
}

const { probeStep } = proxyActivities<ProbeActivities>({ startToCloseTimeout: '10 seconds' });

export async function replayProbeWorkflow(name: string): Promise<string> {
  const greeting = await probeStep(name);
  await sleep(500);
  return greeting;
}
