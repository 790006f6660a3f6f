import { z } from 'zod';
import type { Balances } from './types';

// The wire form of balances: one field per credit type named `<type>_credits`, which is what the
// WordPress plugin reads (`credits.article_credits`). The ledger keeps `{article: n}` inside; every
// answer and webhook body goes through this module, so the naming rule lives here alone.

export const creditFieldName = (creditType: string) => `${creditType}_credits`;

export type CreditFields = Record<string, number>;

export function creditFields(balances: Balances): CreditFields {
  return Object.fromEntries(
    Object.entries(balances).map(([type, amount]) => [creditFieldName(type), amount]),
  );
}

/** The response schema of a credits object: every configured type present, integers. */
export function creditFieldsSchema(creditTypes: readonly string[]) {
  return z.object(Object.fromEntries(creditTypes.map((type) => [creditFieldName(type), z.number().int()])));
}
