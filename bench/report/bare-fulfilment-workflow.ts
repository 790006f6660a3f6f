import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

// The ceiling `npm run bench` sets beside end-to-end fulfilment: a workflow that waits for one
// signal and then runs as many activities as a purchase runs from Stripe's word to the grant, each
// doing nothing. Bundled on its own for the bench worker's second task queue; not a product workflow.

export interface BareSteps {
  step(): Promise<void>;
}

const { step } = proxyActivities<BareSteps>({ startToCloseTimeout: '10 seconds' });

export const bareSignalName = 'paid';
export const bareFulfilmentTaskQueue = 'bench-bare-fulfilment';
const paid = defineSignal(bareSignalName);

export async function bareFulfilmentWorkflow(steps: number): Promise<void> {
  let signalled = false;
  setHandler(paid, () => {
    signalled = true;
  });
  await condition(() => signalled);
  for (let i = 0; i < steps; i += 1) await step();
}
