import assert from 'node:assert/strict';
import type { Db } from 'mongodb';
import { accountIdOf, InsufficientCreditsError, type LedgerResult } from '../../src/ledger';
import { freshInstance, privateDatabase, sumDeltas, testLedger } from '../helpers/ledger';

// 200 writers race for one account holding 100 credits: the unique (account, seq) index must let
// exactly 100 deductions through, on a server where $inc would lose most of them. `localQueue: false`
// turns off the in-process queue, so every call races every other, as 200 processes would; such a
// crowd gets the patience it needs (the default gives up after 100 lost races with 503 ledger_busy).
const crowd = { localQueue: false, maxAttempts: 1_000 } as const;

function outcomes(results: PromiseSettledResult<LedgerResult>[]) {
  const succeeded = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const refused = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  for (const reason of refused) assert.ok(reason instanceof InsufficientCreditsError, String(reason));
  return { succeeded, refused };
}

describe('ledger under concurrency', function () {
  this.timeout(180_000); // two shared cores: a crowd on one account takes a while
  let db: Db;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    ({ db, drop } = await privateDatabase(`concurrency_${Date.now()}`));
  });
  afterEach(async () => drop());

  it('200 parallel deductions of 1 against 100 credits: 100 succeed, balance 0, 100 entries', async () => {
    const ledger = await testLedger({ db, ...crowd });
    const ref = { instance_id: freshInstance('race'), user_id: 1 };
    await ledger.grant({ ...ref, credit_type: 'article', amount: 100, idempotency_key: 'purchase:seed' });

    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () => ledger.deduct({ ...ref, credit_type: 'article', amount: 1 })),
    );
    const { succeeded, refused } = outcomes(results);
    assert.equal(succeeded.length, 100);
    assert.equal(refused.length, 100);

    assert.equal((await ledger.balances(ref)).balances.article, 0);
    const entries = await ledger.entries(accountIdOf(ref.instance_id, ref.user_id));
    assert.equal(entries.filter((entry) => entry.kind === 'deduct').length, 100);
    assert.equal(sumDeltas(entries, 'article'), 0);
    // Every success owns a distinct place, and the places are 2..101 with no gap.
    assert.deepEqual(
      succeeded.map((result) => result.entry.seq).sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i + 2),
    );
  });

  it('the same race with repeated idempotency keys applies each key once', async () => {
    const ledger = await testLedger({ db, ...crowd });
    const ref = { instance_id: freshInstance('race-keys'), user_id: 'u' };
    await ledger.grant({ ...ref, credit_type: 'image', amount: 100, idempotency_key: 'purchase:seed' });

    // 120 keys, most sent twice or more, 200 requests in all: only 100 can be paid for.
    const keys = Array.from({ length: 200 }, (_, i) => `deduct:k${i % 120}`);
    const results = await Promise.allSettled(
      keys.map((key) => ledger.deduct({ ...ref, credit_type: 'image', amount: 1, idempotency_key: key })),
    );
    const { succeeded } = outcomes(results);

    const entries = await ledger.entries(accountIdOf(ref.instance_id, ref.user_id));
    const deducts = entries.filter((entry) => entry.kind === 'deduct');
    assert.equal(deducts.length, 100);
    assert.equal(new Set(deducts.map((entry) => entry.idempotency_key)).size, 100);
    assert.equal((await ledger.balances(ref)).balances.image, 0);
    assert.equal(sumDeltas(entries, 'image'), 0);

    // Every success, first or replayed, answers with the one entry its key wrote.
    const entryByKey = new Map(deducts.map((entry) => [entry.idempotency_key, entry]));
    for (const result of succeeded) {
      assert.equal(result.entry.transaction_id, entryByKey.get(result.entry.idempotency_key)?.transaction_id);
    }
    assert.equal(new Set(succeeded.map((result) => result.entry.idempotency_key)).size, 100);
    assert.ok(succeeded.some((result) => result.replayed));
  });

  it('four processes with in-process queues: still exactly 100 of 200 deductions', async () => {
    const processes = await Promise.all(Array.from({ length: 4 }, () => testLedger({ db })));
    const ref = { instance_id: freshInstance('race-queued'), user_id: 2 };
    await processes[0]!.grant({ ...ref, credit_type: 'rewrite', amount: 100 });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        processes[i % 4]!.deduct({
          ...ref,
          credit_type: 'rewrite',
          amount: 1,
          idempotency_key: `deduct:${i}`,
        }),
      ),
    );
    const { succeeded } = outcomes(results);
    assert.equal(succeeded.length, 100);
    const entries = await processes[1]!.entries(accountIdOf(ref.instance_id, ref.user_id));
    assert.equal(entries.filter((entry) => entry.kind === 'deduct').length, 100);
    assert.equal((await processes[2]!.balances(ref)).balances.rewrite, 0);
  });

  it('a process that saw an account reads it exactly after another process wrote 50 entries', async () => {
    const [first, second] = await Promise.all([testLedger({ db }), testLedger({ db })]);
    const ref = { instance_id: freshInstance('seen'), user_id: 3 };
    await first!.grant({ ...ref, credit_type: 'article', amount: 1_000 });
    assert.equal((await first!.balances(ref)).balances.article, 1_000); // first now remembers seq 1
    for (let i = 0; i < 50; i += 1) await second!.deduct({ ...ref, credit_type: 'article', amount: 2 });
    const read = await first!.balances(ref);
    assert.equal(read.balances.article, 900);
    assert.equal(read.seq, 51);
    // It writes from a stale head too: the unique index refuses seq 52, and the append recovers.
    for (let i = 0; i < 5; i += 1) await second!.deduct({ ...ref, credit_type: 'article', amount: 2 });
    const written = await first!.deduct({ ...ref, credit_type: 'article', amount: 1 });
    assert.equal(written.entry.seq, 57);
    assert.equal(written.balances.article, 889);
    assert.equal((await second!.balances(ref)).balances.article, 889);
  });
});
