import { proxyActivities } from '@temporalio/workflow';

// The ceiling `npm run bench:webhooks` compares delivery with: a workflow that does nothing but one
// activity POSTing the webhook, no database, no signing, no retry bookkeeping. Bundled on its own
// for the bench's second worker; not part of the product's workflows.

export interface BarePost {
  post(url: string, id: string): Promise<void>;
}

const { post } = proxyActivities<BarePost>({ startToCloseTimeout: '10 seconds' });

export async function bareDeliveryWorkflow(url: string, id: string): Promise<void> {
  await post(url, id);
}
