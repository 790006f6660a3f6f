import { randomUUID } from 'node:crypto';
import { createLedger, type Ledger, type LedgerEntry, type LedgerOptions } from '../../src/ledger';
import { stack } from './env';

export const creditTypes = ['article', 'image', 'rewrite'];

/** A ledger on the shared test database. Tests keep apart by using fresh instance ids. */
export async function testLedger(options: Partial<LedgerOptions> = {}): Promise<Ledger> {
  const { db } = await stack();
  return createLedger({ db, creditTypes, ...options });
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
