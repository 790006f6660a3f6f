import assert from 'node:assert/strict';
import fc from 'fast-check';
import { accountIdOf, InsufficientCreditsError, type Ledger, type LedgerResult } from '../../src/ledger';
import { collectionNames } from '../../src/mongo/collections';
import { freshInstance, privateDatabase, testLedger } from '../helpers/ledger';

// Random interleavings of grants, deductions, retries of earlier requests (same idempotency key) and
// a cache knocked back to an old state, run in concurrent batches against the real server. Checked
// against a simple model: each key applies at most once; the balance is the sum of what applied.

const types = ['article', 'image'] as const;
type Command =
  | { op: 'grant' | 'deduct'; credit_type: (typeof types)[number]; amount: number }
  | { op: 'retry'; pick: number }
  | { op: 'rewind'; pick: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('grant' as const),
      credit_type: fc.constantFrom(...types),
      amount: fc.integer({ min: 1, max: 5 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('deduct' as const),
      credit_type: fc.constantFrom(...types),
      amount: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('retry' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rewind' as const), pick: fc.nat() }) },
);

interface Sent {
  key: string;
  op: 'grant' | 'deduct';
  credit_type: string;
  amount: number;
}

type Outcome = { ok: true; result: LedgerResult } | { ok: false; refused: InsufficientCreditsError };

async function send(
  ledger: Ledger,
  ref: { instance_id: string; user_id: number },
  request: Sent,
): Promise<Outcome> {
  const input = {
    ...ref,
    credit_type: request.credit_type,
    amount: request.amount,
    idempotency_key: request.key,
  };
  try {
    return { ok: true, result: await (request.op === 'grant' ? ledger.grant(input) : ledger.deduct(input)) };
  } catch (error) {
    if (error instanceof InsufficientCreditsError) return { ok: false, refused: error };
    throw error;
  }
}

describe('ledger model property', () => {
  it('random interleavings always add up to the model and to the sum of entry deltas', async () => {
    const { db, drop } = await privateDatabase('property');
    const accounts = db.collection(collectionNames.ledgerAccounts);

    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(command, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        async (batches, queued) => {
          const ledger = await testLedger({ db, localQueue: queued });
          const ref = { instance_id: freshInstance('prop'), user_id: 1 };
          const accountId = accountIdOf(ref.instance_id, ref.user_id);
          const sent: Sent[] = [];
          const outcomes: { request: Sent; outcome: Outcome }[] = [];
          const sequential = batches.every((batch) => batch.length === 1);
          const model = {
            balances: { article: 0, image: 0 } as Record<string, number>,
            applied: new Map<string, string>(),
          };

          for (const batch of batches) {
            const requests: Sent[] = [];
            for (const step of batch) {
              if (step.op === 'rewind') {
                const entries = await ledger.entries(accountId);
                const back = entries[(step.pick % (entries.length + 1)) - 1];
                await accounts.updateOne(
                  { _id: accountId as never },
                  {
                    $set: { seq: back?.seq ?? 0, balances: back?.balances_after ?? { article: 0, image: 0 } },
                  },
                );
              } else if (step.op === 'retry') {
                const earlier = sent[step.pick % Math.max(1, sent.length)];
                if (earlier) requests.push(earlier);
              } else {
                const request = { key: `op:${sent.length}`, ...step };
                sent.push(request);
                requests.push(request);
              }
            }
            const results = await Promise.all(requests.map((request) => send(ledger, ref, request)));
            for (const [i, outcome] of results.entries()) outcomes.push({ request: requests[i]!, outcome });

            if (sequential) {
              // One request at a time: the model predicts each answer exactly.
              for (const [i, outcome] of results.entries()) {
                const request = requests[i]!;
                const first = model.applied.get(request.key);
                if (first) {
                  assert.ok(
                    outcome.ok && outcome.result.replayed && outcome.result.entry.transaction_id === first,
                  );
                } else if (request.op === 'deduct' && model.balances[request.credit_type]! < request.amount) {
                  assert.equal(outcome.ok, false);
                } else {
                  assert.ok(outcome.ok && !outcome.result.replayed);
                  model.balances[request.credit_type]! +=
                    request.op === 'grant' ? request.amount : -request.amount;
                  model.applied.set(request.key, outcome.result.entry.transaction_id);
                }
              }
            }
          }

          // The model of any interleaving: a key counts once if any of its sends succeeded.
          const succeededKeys = new Map<string, Sent>();
          for (const { request, outcome } of outcomes)
            if (outcome.ok) succeededKeys.set(request.key, request);
          const expected: Record<string, number> = { article: 0, image: 0 };
          for (const request of succeededKeys.values()) {
            expected[request.credit_type]! += request.op === 'grant' ? request.amount : -request.amount;
          }
          if (sequential) assert.deepEqual(model.balances, expected);

          const entries = await ledger.entries(accountId);
          assert.deepEqual(
            entries.map((entry) => entry.idempotency_key).sort(),
            [...succeededKeys.keys()].sort(),
            'exactly the succeeded keys, each once',
          );
          const running: Record<string, number> = { article: 0, image: 0 };
          for (const [i, entry] of entries.entries()) {
            assert.equal(entry.seq, i + 1);
            running[entry.credit_type]! += entry.delta;
            assert.equal(entry.balances_after[entry.credit_type], running[entry.credit_type]);
            if (entry.kind === 'deduct')
              assert.ok(running[entry.credit_type]! >= 0, 'a deduction went below zero');
          }
          const { balances } = await ledger.balances(ref);
          assert.deepEqual(balances, { ...expected, rewrite: 0 });
          assert.deepEqual(running, expected);
          // Every success answered with the entry its key wrote.
          const byKey = new Map(entries.map((entry) => [entry.idempotency_key, entry.transaction_id]));
          for (const { request, outcome } of outcomes) {
            if (outcome.ok) assert.equal(outcome.result.entry.transaction_id, byKey.get(request.key));
          }
        },
      ),
      { numRuns: 40 },
    );
    await drop();
  });
});
