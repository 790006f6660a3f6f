import assert from 'node:assert/strict';
import { accountIdOf, type LedgerEntry } from '../../src/ledger';
import { grantExpiryInput } from '../../src/ledger/expiry-scheduler';
import { grantExpiryWorkflowId } from '../../workflows/grant-expiry/contract';
import { stack, startTestApi, startTestWorker, uniqueTaskQueue } from '../helpers/env';
import { call } from '../helpers/http';
import { freshInstance, testLedger } from '../helpers/ledger';

describe('grant expiry', () => {
  /** A ledger whose clock the test moves, recording the expiries it was asked to schedule. */
  async function clockedLedger() {
    let clock = new Date('2025-01-01T00:00:00Z');
    const scheduled: LedgerEntry[] = [];
    const ledger = await testLedger({
      now: () => clock,
      onExpiringGrant: async (entry) => {
        scheduled.push(entry);
      },
    });
    return { ledger, scheduled, advanceTo: (iso: string) => (clock = new Date(iso)) };
  }

  it('removes the unspent part of a grant, counting spending against other credits first', async () => {
    const { ledger, scheduled, advanceTo } = await clockedLedger();
    const ref = { instance_id: freshInstance('expiry'), user_id: 1 };
    const grant = await ledger.grant({
      ...ref,
      credit_type: 'article',
      amount: 10,
      expires_at: new Date('2025-01-31T00:00:00Z'),
      idempotency_key: 'promo:jan',
    });
    assert.equal(scheduled.length, 1);
    assert.equal(scheduled[0]?.transaction_id, grant.entry.transaction_id);
    await ledger.grant({
      ...ref,
      credit_type: 'article',
      amount: 10,
      kind: 'purchase',
      idempotency_key: 'purchase:p1',
    });
    await ledger.deduct({ ...ref, credit_type: 'article', amount: 5 });

    await assert.rejects(ledger.expireGrant(grantExpiryInput(grant.entry)), /not yet/);
    advanceTo('2025-01-31T00:00:01Z');
    const expired = await ledger.expireGrant(grantExpiryInput(grant.entry));
    assert.equal(expired.entry.kind, 'expire');
    assert.equal(expired.entry.delta, -10);
    assert.equal(expired.entry.ref, grant.entry.transaction_id);
    assert.equal(expired.balances.article, 5);

    // The timer may fire twice (retries, a duplicate run): the grant still expires once.
    const again = await ledger.expireGrant(grantExpiryInput(grant.entry));
    assert.equal(again.replayed, true);
    const entries = await ledger.entries(accountIdOf(ref.instance_id, ref.user_id));
    assert.equal(entries.filter((entry) => entry.kind === 'expire').length, 1);
    assert.equal((await ledger.balances(ref)).balances.article, 5);

    // Replaying the grant asks for its expiry again (in case the first start was lost).
    await ledger.grant({
      ...ref,
      credit_type: 'article',
      amount: 10,
      expires_at: new Date('2025-01-31T00:00:00Z'),
      idempotency_key: 'promo:jan',
    });
    assert.equal(scheduled.length, 2);
  });

  it('never takes a balance below zero: spent or clawed-back grants expire what is left', async () => {
    const { ledger, advanceTo } = await clockedLedger();
    const ref = { instance_id: freshInstance('expiry'), user_id: 2 };
    const expiresAt = new Date('2025-02-01T00:00:00Z');
    const partly = await ledger.grant({ ...ref, credit_type: 'image', amount: 10, expires_at: expiresAt });
    await ledger.deduct({ ...ref, credit_type: 'image', amount: 7 });
    const gone = await ledger.grant({ ...ref, credit_type: 'rewrite', amount: 4, expires_at: expiresAt });
    await ledger.refund({ ...ref, credit_type: 'rewrite', amount: 6, idempotency_key: 'refund:x' });

    advanceTo('2025-02-02T00:00:00Z');
    const first = await ledger.expireGrant(grantExpiryInput(partly.entry));
    assert.equal(first.entry.delta, -3);
    assert.equal(first.balances.image, 0);
    const second = await ledger.expireGrant(grantExpiryInput(gone.entry));
    assert.equal(second.entry.delta, 0);
    assert.equal(second.balances.rewrite, -2);
  });

  it('welcome grants can expire: N days after the account was first seen', async () => {
    const scheduled: LedgerEntry[] = [];
    const ledger = await testLedger({
      now: () => new Date('2025-03-01T12:00:00Z'),
      welcomeCredits: { rewrite: 2 },
      welcomeExpiresInDays: 7,
      onExpiringGrant: async (entry) => {
        scheduled.push(entry);
      },
    });
    const head = await ledger.balances({ instance_id: freshInstance('welcome'), user_id: 'w' });
    assert.equal(head.balances.rewrite, 2);
    assert.equal(scheduled.length, 1);
    assert.equal(scheduled[0]?.reason, 'welcome');
    assert.equal(scheduled[0]?.expires_at?.toISOString(), '2025-03-08T12:00:00.000Z');
  });

  it('an admin grant with expires_at is expired by its Temporal timer workflow', async () => {
    const { temporal } = await stack();
    const taskQueue = uniqueTaskQueue('expiry');
    const worker = await startTestWorker(taskQueue);
    const api = await startTestApi({ TEMPORAL_TASK_QUEUE: taskQueue });
    try {
      const instance = freshInstance('expiry-wf');
      const expiresAt = new Date(Date.now() + 2_000).toISOString();
      const granted = await call(api.url, 'POST', '/admin/v1/credits/adjust', {
        admin: true,
        headers: { 'Idempotency-Key': `promo-${instance}` },
        body: {
          instance_id: instance,
          user_id: 11,
          user_email: 'e@example.com',
          credit_type: 'image',
          delta: 6,
          reason: 'promotion',
          expires_at: expiresAt,
        },
      });
      assert.equal(granted.status, 200, JSON.stringify(granted.body));
      const spent = await call(api.url, 'POST', '/api/v1/users/deduct-credits', {
        instance,
        body: { user_id: 11, user_email: 'e@example.com', credit_type: 'image', amount: 1 },
      });
      assert.deepEqual(spent.body.remaining_credits, {
        article_credits: 0,
        image_credits: 5,
        rewrite_credits: 0,
      });

      // A retried grant finds the timer already there rather than starting a second one.
      const retried = await call(api.url, 'POST', '/admin/v1/credits/adjust', {
        admin: true,
        headers: { 'Idempotency-Key': `promo-${instance}` },
        body: {
          instance_id: instance,
          user_id: 11,
          user_email: 'e@example.com',
          credit_type: 'image',
          delta: 6,
          reason: 'promotion',
          expires_at: expiresAt,
        },
      });
      assert.equal(retried.headers.get('Idempotent-Replayed'), 'true');

      const handle = temporal.client.workflow.getHandle(grantExpiryWorkflowId(granted.body.transaction_id));
      const outcome = await handle.result();
      assert.equal(outcome.expired, 5);
      assert.equal(outcome.replayed, false);

      const balance = await call(api.url, 'GET', '/api/v1/users/credits?user_id=11', { instance });
      assert.deepEqual(balance.body.credits, { article_credits: 0, image_credits: 0, rewrite_credits: 0 });
    } finally {
      await api.stop();
      await worker.stop();
    }
  });
});
