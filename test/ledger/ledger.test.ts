import assert from 'node:assert/strict';
import {
  accountIdOf,
  entryIdOf,
  IdempotencyConflictError,
  InsufficientCreditsError,
  type LedgerEntry,
} from '../../src/ledger';
import { collectionNames } from '../../src/mongo/collections';
import { stack } from '../helpers/env';
import { freshInstance, sumDeltas, testLedger } from '../helpers/ledger';

describe('ledger', () => {
  it('starts a new account at zero, as one account whatever the user id type', async () => {
    const ledger = await testLedger();
    const instance_id = freshInstance();
    const head = await ledger.balances({ instance_id, user_id: 7, user_email: 'u7@example.com' });
    assert.deepEqual(head, {
      account_id: `${instance_id}:7`,
      seq: 0,
      balances: { article: 0, image: 0, rewrite: 0 },
    });

    await ledger.grant({ instance_id, user_id: 7, credit_type: 'image', amount: 4 });
    const asString = await ledger.balances({ instance_id, user_id: '7' });
    assert.deepEqual(asString.balances, { article: 0, image: 4, rewrite: 0 });
    assert.equal(asString.seq, 1);
  });

  it('keeps instances apart, even with separators in the ids', async () => {
    assert.notEqual(accountIdOf('a:b', 'c'), accountIdOf('a', 'b:c'));
    const ledger = await testLedger();
    const first = freshInstance();
    const second = freshInstance();
    await ledger.grant({ instance_id: first, user_id: 1, credit_type: 'article', amount: 3 });
    assert.equal((await ledger.balances({ instance_id: second, user_id: 1 })).balances.article, 0);
  });

  it('deducts, and refuses a deduction larger than the balance without writing anything', async () => {
    const ledger = await testLedger();
    const ref = { instance_id: freshInstance(), user_id: 1, user_email: 'a@example.com' };
    await ledger.grant({ ...ref, credit_type: 'article', amount: 5, kind: 'purchase', ref: 'pur_1' });
    const spent = await ledger.deduct({ ...ref, credit_type: 'article', amount: 2 });
    assert.equal(spent.replayed, false);
    assert.equal(spent.entry.kind, 'deduct');
    assert.equal(spent.entry.delta, -2);
    assert.equal(spent.entry.seq, 2);
    assert.deepEqual(spent.balances, { article: 3, image: 0, rewrite: 0 });

    await assert.rejects(ledger.deduct({ ...ref, credit_type: 'article', amount: 4 }), (error: unknown) => {
      assert.ok(error instanceof InsufficientCreditsError);
      assert.deepEqual(error.credits, { article: 3, image: 0, rewrite: 0 });
      return true;
    });
    await assert.rejects(
      ledger.deduct({ ...ref, credit_type: 'image', amount: 1 }),
      InsufficientCreditsError,
    );
    const entries = await ledger.entries(accountIdOf(ref.instance_id, ref.user_id));
    assert.deepEqual(
      entries.map((entry) => [entry.seq, entry.kind, entry.delta]),
      [
        [1, 'purchase', 5],
        [2, 'deduct', -2],
      ],
    );
  });

  it('refuses the first deduction of a user it never saw without opening an account (no welcome grants)', async () => {
    const ledger = await testLedger();
    const ref = { instance_id: freshInstance(), user_id: 'never-seen', user_email: 'n@example.com' };
    await assert.rejects(ledger.deduct({ ...ref, credit_type: 'article', amount: 1 }), (error: unknown) => {
      assert.ok(error instanceof InsufficientCreditsError);
      assert.deepEqual(error.credits, { article: 0, image: 0, rewrite: 0 });
      return true;
    });
    await assert.rejects(
      ledger.adjust({ ...ref, credit_type: 'image', delta: -1 }),
      InsufficientCreditsError,
    );
    const { db } = await stack();
    const accountId = accountIdOf(ref.instance_id, ref.user_id);
    assert.equal(
      await db.collection(collectionNames.ledgerAccounts).countDocuments({ _id: accountId as never }),
      0,
    );
    // A grant still opens it as before.
    await ledger.grant({ ...ref, credit_type: 'article', amount: 2 });
    assert.equal((await ledger.deduct({ ...ref, credit_type: 'article', amount: 1 })).balances.article, 1);
  });

  it('keeps the email a refused deduction names out of the account; a made write stores it', async () => {
    const ledger = await testLedger();
    const ref = { instance_id: freshInstance(), user_id: 'u-email' };
    const accountId = accountIdOf(ref.instance_id, ref.user_id);
    await ledger.grant({ ...ref, user_email: 'first@example.com', credit_type: 'article', amount: 1 });
    await assert.rejects(
      ledger.deduct({ ...ref, user_email: 'second@example.com', credit_type: 'article', amount: 5 }),
      InsufficientCreditsError,
    );
    assert.equal(await ledger.userEmail(accountId), 'first@example.com');
    await ledger.deduct({ ...ref, user_email: 'second@example.com', credit_type: 'article', amount: 1 });
    assert.equal(await ledger.userEmail(accountId), 'second@example.com');
  });

  it('applies an idempotency key once and answers a retry with the first result', async () => {
    const ledger = await testLedger();
    const ref = { instance_id: freshInstance(), user_id: 'u1' };
    await ledger.grant({ ...ref, credit_type: 'rewrite', amount: 1, idempotency_key: 'purchase:p1' });
    const first = await ledger.deduct({
      ...ref,
      credit_type: 'rewrite',
      amount: 1,
      idempotency_key: 'deduct:k1',
    });
    // The retry comes when the balance is already 0: it still gets the first answer, not a refusal.
    const retry = await ledger.deduct({
      ...ref,
      credit_type: 'rewrite',
      amount: 1,
      idempotency_key: 'deduct:k1',
    });
    assert.equal(retry.replayed, true);
    assert.equal(retry.entry.transaction_id, first.entry.transaction_id);
    assert.deepEqual(retry.balances, first.balances);

    // After more credits arrive, the same key still does not deduct again.
    await ledger.grant({ ...ref, credit_type: 'rewrite', amount: 5 });
    const late = await ledger.deduct({
      ...ref,
      credit_type: 'rewrite',
      amount: 1,
      idempotency_key: 'deduct:k1',
    });
    assert.equal(late.replayed, true);
    assert.equal((await ledger.balances(ref)).balances.rewrite, 5);

    await assert.rejects(
      ledger.deduct({ ...ref, credit_type: 'rewrite', amount: 2, idempotency_key: 'deduct:k1' }),
      IdempotencyConflictError,
    );
  });

  it('lets refunds and dispute holds take a balance below zero, then refuses spending', async () => {
    const ledger = await testLedger();
    const ref = { instance_id: freshInstance(), user_id: 3 };
    await ledger.grant({
      ...ref,
      credit_type: 'article',
      amount: 10,
      kind: 'purchase',
      idempotency_key: 'purchase:p',
    });
    await ledger.deduct({ ...ref, credit_type: 'article', amount: 8 });
    const refund = await ledger.refund({
      ...ref,
      credit_type: 'article',
      amount: 10,
      idempotency_key: 'refund:p',
    });
    assert.equal(refund.balances.article, -8);
    await assert.rejects(
      ledger.deduct({ ...ref, credit_type: 'article', amount: 1 }),
      InsufficientCreditsError,
    );
    const hold = await ledger.disputeHold({
      ...ref,
      credit_type: 'article',
      amount: 2,
      idempotency_key: 'dp:h',
    });
    assert.equal(hold.balances.article, -10);
    const release = await ledger.disputeRelease({
      ...ref,
      credit_type: 'article',
      amount: 2,
      idempotency_key: 'dp:r',
    });
    assert.equal(release.balances.article, -8);
  });

  it('reads exact balances when the account cache lags behind or steps back', async () => {
    const { db } = await stack();
    const ledger = await testLedger();
    const ref = { instance_id: freshInstance(), user_id: 9 };
    for (let i = 0; i < 4; i += 1) await ledger.grant({ ...ref, credit_type: 'image', amount: 10 });
    const accountId = accountIdOf(ref.instance_id, ref.user_id);
    // What a crash after the insert, or a racing cache update, leaves behind.
    await db
      .collection(collectionNames.ledgerAccounts)
      .updateOne(
        { _id: accountId as never },
        { $set: { seq: 1, balances: { article: 0, image: 10, rewrite: 0 } } },
      );
    assert.deepEqual(await ledger.balances(ref), {
      account_id: accountId,
      seq: 4,
      balances: { article: 0, image: 40, rewrite: 0 },
    });
    // A write from the stale cache still lands at seq 5, on top of the real head.
    const next = await ledger.deduct({ ...ref, credit_type: 'image', amount: 40 });
    assert.equal(next.entry.seq, 5);
    assert.equal(next.entry._id, entryIdOf(accountId, 5));
    assert.equal(next.balances.image, 0);
  });

  it('gives the configured welcome grant once, even to concurrent first requests', async () => {
    const ledger = await testLedger({ welcomeCredits: { article: 3, image: 1 } });
    const ref = { instance_id: freshInstance(), user_id: 'new-user', user_email: 'n@example.com' };
    const heads = await Promise.all(Array.from({ length: 10 }, () => ledger.balances(ref)));
    for (const head of heads) assert.deepEqual(head.balances, { article: 3, image: 1, rewrite: 0 });
    const entries = await ledger.entries(accountIdOf(ref.instance_id, ref.user_id));
    assert.deepEqual(
      entries.map((entry: LedgerEntry) => [entry.kind, entry.credit_type, entry.delta, entry.reason]),
      [
        ['grant', 'article', 3, 'welcome'],
        ['grant', 'image', 1, 'welcome'],
      ],
    );
    assert.equal(sumDeltas(entries, 'article'), 3);
  });

  it('refuses an expiring grant when nothing can schedule the expiry', async () => {
    const ledger = await testLedger();
    await assert.rejects(
      ledger.grant({
        instance_id: freshInstance(),
        user_id: 1,
        credit_type: 'article',
        amount: 1,
        expires_at: new Date(Date.now() + 60_000),
      }),
      /cannot schedule expiries/,
    );
  });
});
