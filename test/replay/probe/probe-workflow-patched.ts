import { patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { ProbeActivities } from './probe-workflow';

// The same change made safely: new runs take the new path (a timer first), and a run recorded before
// the change finds no marker for the patch in its history, so it keeps the old path on replay.

const { probeStep } = proxyActivities<ProbeActivities>({ startToCloseTimeout: '10 seconds' });

export async function replayProbeWorkflow(name: string): Promise<string> {
  if (patched('probe-timer-first')) {
    await sleep(500);
    return probeStep(name);
  }
  const greeting = await probeStep(name);
  await sleep(500);
  return greeting;
}
