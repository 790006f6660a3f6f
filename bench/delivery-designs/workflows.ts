import { condition, continueAsNew, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

// Design probe for the webhook delivery engine (issue 15): one long-lived workflow per endpoint that
// drains the endpoint's queue from MongoDB in batches. A signal wakes it; each batch is one activity.
// Not product code: bench/delivery-designs/main.ts compares it with one workflow per delivery.

export interface DrainActivities {
  drainQueue(endpointUrl: string): Promise<number>;
  postOne(url: string, id: string): Promise<void>;
}

export const wakeSignal = defineSignal('wake');

const { drainQueue } = proxyActivities<DrainActivities>({ startToCloseTimeout: '1 minute' });
const { postOne } = proxyActivities<DrainActivities>({ startToCloseTimeout: '10 seconds' });

export async function endpointDrainerWorkflow(endpointUrl: string): Promise<void> {
  let woken = true;
  setHandler(wakeSignal, () => {
    woken = true;
  });
  for (let batches = 0; batches < 500; batches += 1) {
    await condition(() => woken, '1 minute');
    woken = false;
    // Drain until empty: signals that arrive meanwhile only set the flag again.
    while ((await drainQueue(endpointUrl)) > 0) {}
  }
  await continueAsNew<typeof endpointDrainerWorkflow>(endpointUrl);
}

/** Today's shape, stripped to its Temporal cost: one workflow per delivery, one POST activity. */
export async function perDeliveryWorkflow(url: string, id: string): Promise<void> {
  await postOne(url, id);
}
