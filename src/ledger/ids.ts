import { createHash } from 'node:crypto';

// Ids the ledger derives from its inputs. Parts are URI-encoded, so `:` and `#` only ever separate
// (an instance `a:b` with user `c` can never share an account with instance `a` and user `b:c`);
// ordinary ids (UUIDs, integers, slugs) come out unchanged.

/** WordPress sends integers, other clients strings: both name the same user. */
export function normaliseUserId(userId: string | number): string {
  return typeof userId === 'number' ? String(Math.trunc(userId)) : userId;
}

export function accountIdOf(instanceId: string, userId: string | number): string {
  return `${encodeURIComponent(instanceId)}:${encodeURIComponent(normaliseUserId(userId))}`;
}

export function entryIdOf(accountId: string, seq: number): string {
  return `${accountId}#${seq}`;
}

/** A stable hash of a JSON value: object keys are sorted, so field order does not matter. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** JSON with object keys sorted (and undefined fields left out): equal values, equal text. */
export function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
