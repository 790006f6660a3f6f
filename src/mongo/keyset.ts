import type { FindCursor } from 'mongodb';
// Keyset paging, the one way every operator list pages: documents sorted newest first by a key of
// several fields whose last field is unique, and each page starts strictly after the key of the
// previous page's last document. Unlike skip/offset, a page never repeats or skips a document when
// others are written meanwhile, and every MongoDB-wire server answers the plain `$or` of `$lt`/equality
// filters it needs (the local server scans for it, MongoDB uses the sort's index where there is one).

export type KeyValue = string | number | Date;

/** What a store is asked for: at most `limit` documents after `after` (the first page without it). */
export interface KeysetRequest {
  limit: number;
  after?: readonly KeyValue[];
}

/** A page: its documents and, when more follow, the key to ask for the next one after. */
export interface KeysetPage<T> {
  items: T[];
  next?: KeyValue[];
}

/**
 * The filter "after `after` in descending order of `fields`": for fields (a, b), `a < a0`, or
 * `a = a0 and b < b0`. Undefined for the first page.
 */
export function descendingAfter(
  fields: readonly string[],
  after: readonly KeyValue[] | undefined,
): Record<string, unknown> | undefined {
  if (!after) return undefined;
  if (after.length !== fields.length) throw new Error(`a key of ${fields.length} values expected`);
  const branches = fields.map((field, i) => {
    const branch: Record<string, unknown> = {};
    for (let j = 0; j < i; j++) branch[fields[j]!] = after[j];
    branch[field] = { $lt: after[i] };
    return branch;
  });
  return branches.length === 1 ? branches[0] : { $or: branches };
}

/** The sort that goes with descendingAfter. */
export function descendingSort(fields: readonly string[]): Record<string, -1> {
  return Object.fromEntries(fields.map((field) => [field, -1 as const]));
}

/**
 * Makes a page from what a store read with limit + 1: the extra document only says that another
 * page follows, so `next` is the key of the last document shown.
 */
/** Reads one page of a query already filtered past `page.after`: newest first by `order`. */
export async function readPage<T>(
  found: FindCursor<T>,
  order: readonly string[],
  page: KeysetRequest,
  keyOf: (item: T) => KeyValue[],
): Promise<KeysetPage<T>> {
  const read = await found
    .sort(descendingSort(order))
    .limit(page.limit + 1)
    .toArray();
  return pageFrom(read, page.limit, keyOf);
}

export function pageFrom<T>(read: T[], limit: number, keyOf: (item: T) => KeyValue[]): KeysetPage<T> {
  if (read.length <= limit) return { items: read };
  const items = read.slice(0, limit);
  return { items, next: keyOf(items[items.length - 1]!) };
}

/**
 * `field` from `since` (inclusive) to `until` (exclusive), or undefined without either; `as` writes
 * the bound as the field is stored (a Date, or an ISO string).
 */
export function timeRange(
  field: string,
  range: { since?: Date; until?: Date },
  as: (at: Date) => unknown = (at) => at,
): Record<string, unknown> | undefined {
  if (!range.since && !range.until) return undefined;
  return {
    [field]: {
      ...(range.since ? { $gte: as(range.since) } : {}),
      ...(range.until ? { $lt: as(range.until) } : {}),
    },
  };
}

/** Filters that must all hold (any may be absent). */
export function allOf(...filters: Array<Record<string, unknown> | undefined>): Record<string, unknown> {
  const present = filters.filter((filter): filter is Record<string, unknown> => filter !== undefined);
  if (present.length === 0) return {};
  return present.length === 1 ? present[0]! : { $and: present };
}
