import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { collectionNames } from '../../src/mongo/collections';
import { purchaseWorkflowId } from '../../workflows/purchase/contract';
import { stack } from '../helpers/env';
import { type PurchaseWorld, startPurchaseWorld } from './harness';

// Issue 12: the request id an answer carries (X-Request-ID, also on its log lines) reaches what the
// request made: the purchase record and its workflow's memo, and a deduction's ledger entry.

describe('request ids reach the purchase workflow and the ledger', function () {
  this.timeout(60_000);
  let world: PurchaseWorld;
  before(async () => {
    world = await startPurchaseWorld();
  });
  after(() => world.stop());

  it('a checkout: the purchase record and its run carry the request id', async () => {
    const created = await world.asBuyer('POST', '/api/v1/checkout/sessions', {
      body: {
        user_id: randomUUID(),
        user_email: 'ids@example.jp',
        credit_type: 'article',
        package_id: 'pkg_article_10',
        amount: 750,
        currency: 'JPY',
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const requestId = created.headers.get('x-request-id');
    assert.ok(requestId);
    const { db, temporal } = await stack();
    const record = await db
      .collection(collectionNames.purchases)
      .findOne({ purchase_id: created.body.purchase_id });
    assert.equal(record?.request_id, requestId);
    const described = await temporal.client.workflow
      .getHandle(purchaseWorkflowId(created.body.purchase_id))
      .describe();
    assert.deepEqual(described.memo, { request_id: requestId });
  });

  it('a deduction: its ledger entry carries the request id', async () => {
    const user = { id: randomUUID(), email: 'spender@example.jp' };
    const { db } = await stack();
    // Credits to spend, through an operator's adjustment.
    const adjusted = await fetch(`${world.api.url}/admin/v1/credits/adjust`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${process.env.ADMIN_API_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        instance_id: world.plugin.instance_id,
        user_id: user.id,
        user_email: user.email,
        credit_type: 'article',
        delta: 3,
        reason: 'test credits',
      }),
    });
    assert.equal(adjusted.status, 200);
    const spent = await world.asBuyer('POST', '/api/v1/users/deduct-credits', {
      body: { user_id: user.id, user_email: user.email, credit_type: 'article', amount: 1 },
    });
    assert.equal(spent.status, 200, JSON.stringify(spent.body));
    const entry = await db
      .collection(collectionNames.ledgerEntries)
      .findOne({ transaction_id: spent.body.transaction_id });
    assert.equal(entry?.kind, 'deduct');
    assert.equal(entry?.request_id, spent.headers.get('x-request-id'));
  });
});
