import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ensureIndexes, isDuplicateKeyError } from '../../src/mongo/collections';
import { stack } from '../helpers/env';

// What the ledger stands on, checked against the real local server (mongo-java-server on H2): a compound
// unique index lets exactly one of many concurrent inserts through, and says so with code 11000.

describe('MongoDB-wire server guarantees the ledger relies on', () => {
  it('a compound unique index admits exactly one of 200 concurrent inserts', async () => {
    const { db } = await stack();
    const collection = db.collection(`unique_probe_${randomUUID().slice(0, 8)}`);
    await collection.createIndex({ account_id: 1, seq: 1 }, { unique: true });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, writer) => collection.insertOne({ account_id: 'a', seq: 1, writer })),
      );
      const refused = results.filter((result) => result.status === 'rejected');
      assert.equal(results.length - refused.length, 1);
      for (const result of refused) assert.ok(isDuplicateKeyError(result.reason), String(result.reason));
      assert.equal(await collection.countDocuments({ account_id: 'a' }), 1);
      // A different account may take the same seq.
      await collection.insertOne({ account_id: 'b', seq: 1 });
    } finally {
      await collection.drop();
    }
  });

  it('creating the indexes again (every process start) leaves them as they are', async () => {
    const { db } = await stack();
    await ensureIndexes(db);
    await ensureIndexes(db);
    const names = (await db.collection('ledger_entries').indexes()).map((index) => index.name).sort();
    assert.deepEqual(names, [
      '_id_',
      'account_idempotency_key_unique',
      'account_seq_unique',
      'ref_kind',
      'transaction_id_unique',
    ]);
  });
});
