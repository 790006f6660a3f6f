import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { createLedger, type Ledger, type LedgerEntry, type LedgerOptions } from '../../src/ledger';
import { ensureIndexes } from '../../src/mongo/collections';
import { stack } from './env';

export const creditTypes = ['article', 'image', 'rewrite'];

/** A ledger on the shared test database. Tests keep apart by using fresh instance ids. */
export async function testLedger(options: Partial<LedgerOptions> = {}): Promise<Ledger> {
  const { db } = await stack();
  return createLedger({ db, creditTypes, ...options });
}

/**
 * A database of its own for a suite that writes thousands of entries, so that they do not weigh on
 * the shared test database, and dropping it afterwards leaves nothing behind.
 */
export async function privateDatabase(name: string): Promise<{ db: Db; drop(): Promise<void> }> {
  const { mongoClient } = await stack();
  const db = mongoClient.db(`rakubun_test_${name}`);
  await ensureIndexes(db);
  return { db, drop: async () => void (await db.dropDatabase()) };
}

export function freshInstance(prefix = 'inst'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Sum of the deltas of one credit type: what the balance must be if history adds up. */
export function sumDeltas(entries: LedgerEntry[], creditType: string): number {
  return entries
    .filter((entry) => entry.credit_type === creditType)
    .reduce((sum, entry) => sum + entry.delta, 0);
}
