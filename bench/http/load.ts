import type { Collection, Db, Document } from 'mongodb';
import { collectionNames, isDuplicateKeyError } from '../../src/mongo/collections';

// Fills every collection with `count` documents that carry a distinct value in every indexed field,
// so each index grows as it would with real data, while matching nothing the product looks for (no
// real id, status or key looks like `load-…`). Dates are far in the future so nothing expires.

const future = new Date('2099-01-01T00:00:00Z');

function valueFor(field: string, i: number): unknown {
  if (field.endsWith('_at') || field === 'at') return new Date(future.getTime() + i);
  if (['seq', 'window', 'slot', 'version', 'ledger_seq'].includes(field)) return i;
  return `load-${i}`;
}

function filler(fields: string[], i: number): Document {
  const doc: Document = { payload: 'x'.repeat(200) };
  for (const field of fields) doc[field] = valueFor(field, i);
  return doc;
}

/**
 * One batch; a failure other than duplicates (mongo-java-server 1.47.0 once answered an insertMany
 * into ledger_entries with "Can not compare [2.3.232/0]" from H2) is reported and retried once.
 */
async function insertBatch(collection: Collection, batch: Document[], log: (line: string) => void) {
  try {
    await collection.insertMany(batch, { ordered: false });
  } catch (error) {
    log(
      `[bench]   ${collection.collectionName}: insertMany failed (${(error as Error).message}); retrying once`,
    );
    await collection.insertMany(batch, { ordered: false }).catch((again) => {
      const writeErrors = ([] as unknown[]).concat((again as { writeErrors?: unknown }).writeErrors ?? []);
      if (writeErrors.length === 0 || !writeErrors.every(isDuplicateKeyError)) throw again;
    });
  }
}

export async function loadDocuments(db: Db, count: number, log: (line: string) => void): Promise<void> {
  const names = Object.values(collectionNames);
  const started = Date.now();
  let lastReport = started;
  for (const [n, name] of names.entries()) {
    const collection = db.collection(name);
    const indexes = await collection.indexes().catch(() => []);
    const fields = [...new Set(indexes.flatMap((index) => Object.keys(index.key)))].filter(
      (f) => f !== '_id',
    );
    for (let from = 0; from < count; from += 1_000) {
      const batch = Array.from({ length: Math.min(1_000, count - from) }, (_, k) => filler(fields, from + k));
      await insertBatch(collection, batch, log);
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        const seconds = Math.round((lastReport - started) / 1000);
        log(
          `[bench]   ${seconds}s: collection ${n + 1}/${names.length} (${name}), ${from + batch.length} documents`,
        );
      }
    }
  }
  log(`[bench]   loaded ${names.length} collections in ${Math.round((Date.now() - started) / 1000)}s`);
}
