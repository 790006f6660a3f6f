import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { purchaseWorkflowId, purchaseWorkflowType } from '../../workflows/purchase/contract';
import { stack } from '../helpers/env';
import { type PurchaseWorld, startPurchaseWorld } from './harness';

// Issue 12: Temporal UI and the API tell the truth about a purchase. A fulfilled purchase's run
// completes with its outcome; a failed or expired one ends as a failed run; a purchase that waits
// says why (awaiting payment, processing at Stripe, Stripe unreachable) in the API and in the
// RakubunStatusReason search attribute.

describe('purchase workflow states and status reasons', function () {
  this.timeout(120_000);
  let world: PurchaseWorld;
  before(async () => {
    world = await startPurchaseWorld();
  });
  after(() => world.stop());

  const handle = async (purchaseId: string) =>
    (await stack()).temporal.client.workflow.getHandle(purchaseWorkflowId(purchaseId));

  async function waitForReason(purchaseId: string, reason: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    // biome-ignore lint/suspicious/noExplicitAny: purchase bodies are checked field by field
    let last: any = {};
    while (Date.now() < deadline) {
      last = await world.purchase(purchaseId);
      if (last.status_reason === reason) return last;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error(`purchase ${purchaseId} says ${JSON.stringify(last.status_reason)}, not ${reason}`);
  }

  async function searchAttribute(purchaseId: string, name: string) {
    const described = await (await handle(purchaseId)).describe();
    return described.searchAttributes[name]?.[0];
  }

  it('a fulfilled purchase: the run completes with its outcome, visible in Temporal visibility', async () => {
    const purchase = await world.buy();
    await waitForReason(purchase.purchase_id, 'awaiting_payment');
    assert.equal(await searchAttribute(purchase.purchase_id, 'RakubunStatusReason'), 'awaiting_payment');
    await world.control(`checkout/sessions/${purchase.session_id}/pay`);
    const result = await (await handle(purchase.purchase_id)).result();
    assert.equal(result.status, 'fulfilled');
    assert.equal(result.credits_added, purchase.credits);
    const described = await (await handle(purchase.purchase_id)).describe();
    assert.equal(described.status.name, 'COMPLETED');
    assert.equal(described.searchAttributes.RakubunPurchaseStatus?.[0], 'fulfilled');
    assert.ok(!described.searchAttributes.RakubunStatusReason?.[0], 'no reason once fulfilled');
    // What an operator types into Temporal UI's list finds it, completed.
    const { temporal } = await stack();
    const deadline = Date.now() + 20_000;
    let found: string[] = [];
    while (found.length === 0 && Date.now() < deadline) {
      found = [];
      for await (const run of temporal.client.workflow.list({
        query: `RakubunPurchaseId = "${purchase.purchase_id}" AND RakubunPurchaseStatus = "fulfilled" AND ExecutionStatus = "Completed"`,
      })) {
        found.push(run.workflowId);
      }
      if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.deepEqual(found, [purchaseWorkflowId(purchase.purchase_id)]);
    // The API still answers from the saved view (or the closed run).
    assert.equal((await world.purchase(purchase.purchase_id)).status, 'fulfilled');
  });

  it('an expired purchase ends as a failed run, saying why', async () => {
    const purchase = await world.buy();
    await waitForReason(purchase.purchase_id, 'awaiting_payment');
    await world.control(`checkout/sessions/${purchase.session_id}/expire`);
    await assert.rejects((await handle(purchase.purchase_id)).result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError, String(error));
      assert.match(String((error.cause as Error)?.message), /purchase expired/);
      return true;
    });
    const described = await (await handle(purchase.purchase_id)).describe();
    assert.equal(described.status.name, 'FAILED');
    assert.equal(described.searchAttributes.RakubunStatusReason?.[0], 'expired');
    const body = await world.purchase(purchase.purchase_id);
    assert.equal(body.status, 'expired');
    assert.equal(body.status_reason, 'expired');
  });

  it('a payment that settles later says processing_at_stripe until it does', async () => {
    const purchase = await world.buy();
    await world.control(`checkout/sessions/${purchase.session_id}/pay`, { outcome: 'processing' });
    const waiting = await waitForReason(purchase.purchase_id, 'processing_at_stripe');
    assert.equal(waiting.status, 'pending');
    assert.ok(waiting.status_reason_since);
    assert.equal(await searchAttribute(purchase.purchase_id, 'RakubunStatusReason'), 'processing_at_stripe');
    // The operators' list says the same, read from the run.
    const listed = await fetch(
      `${world.api.url}/admin/v1/purchases?instance_id=${world.plugin.instance_id}&status=pending&limit=200`,
      { headers: { Authorization: `Bearer ${process.env.ADMIN_API_TOKEN}` } },
    ).then((response) => response.json());
    const row = listed.purchases.find((p: { purchase_id: string }) => p.purchase_id === purchase.purchase_id);
    assert.equal(row?.status_reason, 'processing_at_stripe', JSON.stringify(row));
  });

  it('while Stripe does not answer, the purchase says stripe_unreachable and since when, then recovers', async () => {
    const purchase = await world.buy();
    // Restart the run with a short threshold (the default is 30 s) before anything is paid.
    const { temporal } = await stack();
    await (await handle(purchase.purchase_id)).terminate('test: restart with a short slow-Stripe threshold');
    await temporal.client.workflow.start(purchaseWorkflowType, {
      taskQueue: world.taskQueue,
      workflowId: purchaseWorkflowId(purchase.purchase_id),
      args: [{ purchase_id: purchase.purchase_id, slow_stripe_read_ms: 500 }],
    });
    await waitForReason(purchase.purchase_id, 'awaiting_payment');
    // Every read of the session fails for a while.
    await world.control('faults', {
      status: 500,
      count: 1000,
      path_prefix: `/v1/checkout/sessions/${purchase.session_id}`,
    });
    await world.control(`checkout/sessions/${purchase.session_id}/pay`);
    const stuck = await waitForReason(purchase.purchase_id, 'stripe_unreachable');
    assert.equal(stuck.status, 'pending');
    assert.ok(Date.parse(stuck.status_reason_since) > 0);
    assert.equal(await searchAttribute(purchase.purchase_id, 'RakubunStatusReason'), 'stripe_unreachable');
    await world.control('faults', {}, 'DELETE');
    const done = await world.waitForStatus(purchase.purchase_id, 'fulfilled', 60_000);
    assert.equal(done.status_reason, undefined);
  });

  it('a refund after the run completed is handled by a new run of the same purchase', async () => {
    const purchase = await world.buy();
    await world.control(`checkout/sessions/${purchase.session_id}/pay`);
    const first = await handle(purchase.purchase_id);
    await first.result();
    const firstRun = (await first.describe()).runId;
    const session = await fetch(
      `${world.sandbox.url}/v1/checkout/sessions/${purchase.session_id}?expand[]=payment_intent`,
      {
        headers: { Authorization: `Bearer ${world.settings.STRIPE_SECRET_KEY}` },
      },
    ).then((response) => response.json());
    await world.control(`charges/${session.payment_intent.latest_charge}/refund`);
    await world.waitForStatus(purchase.purchase_id, 'refunded');
    const latest = await (await handle(purchase.purchase_id)).describe();
    assert.notEqual(latest.runId, firstRun, 'a new run took the refund');
    assert.deepEqual((await world.entries(purchase.purchase_id)).byKind, { purchase: 1, refund: 1 });
  });
});
