import { z } from 'zod';
import type { KeysetPage, KeysetRequest, KeyValue } from '../mongo/keyset';
import { ApiError } from './errors';

// How every operator list pages, the same way: `?cursor=&limit=` in (limit 1 to 200, default 50),
// `{..., next_cursor}` out, null on the last page. A cursor is opaque to callers: the list's name and
// the key of the last item shown (see mongo/keyset.ts), so a page starts right after the previous one.

export const defaultPageLimit = 50;
export const maxPageLimit = 200;

const limitMessage = `expected an integer from 1 to ${maxPageLimit}`;

/** The query fields every list takes. */
export const pageQueryFields = {
  cursor: z
    .string()
    .min(1)
    .max(1024)
    .optional()
    .describe('`next_cursor` of the previous page; omit for the first page'),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, { message: limitMessage })
    .transform(Number)
    .pipe(z.number().int().min(1, { message: limitMessage }).max(maxPageLimit, { message: limitMessage }))
    .optional()
    .describe(`items per page, 1 to ${maxPageLimit} (default ${defaultPageLimit})`),
};

/** A list's query: its own filters and the paging fields. */
export function pagedQuery<S extends z.ZodRawShape>(filters: S) {
  return z.object({ ...filters, ...pageQueryFields });
}

/** A list's answer: its items and `next_cursor`. */
export function pagedResponse<S extends z.ZodRawShape>(items: S) {
  return z.object({
    success: z.literal(true),
    ...items,
    next_cursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
  });
}

export type KeyKind = 'string' | 'number' | 'date';

/** A paged list: its name (a cursor of another list is refused) and the kinds of its key's values. */
export interface PagedList {
  name: string;
  key: readonly KeyKind[];
}

/** Every paged list, by the key its store pages on (see the stores' listing functions). */
export const pagedLists = {
  /** created_at, instance_id (tenancy/instance-directory.ts). */
  instances: { name: 'instances', key: ['date', 'string'] },
  /** created_at, account id (ledger/reads.ts). */
  users: { name: 'users', key: ['date', 'string'] },
  /** account id, seq (ledger/reads.ts). */
  ledger: { name: 'ledger', key: ['string', 'number'] },
  /** created_at (an ISO string), purchase_id (purchases/store.ts). */
  purchases: { name: 'purchases', key: ['string', 'string'] },
  /** created_at, delivery id (webhooks/delivery-list.ts). */
  webhookDeliveries: { name: 'webhook_deliveries', key: ['date', 'string'] },
} as const satisfies Record<string, PagedList>;

type EncodedValue = string | number | { d: string };

export function encodeCursor(list: PagedList, key: readonly KeyValue[]): string {
  const k: EncodedValue[] = key.map((value) => (value instanceof Date ? { d: value.toISOString() } : value));
  return Buffer.from(JSON.stringify({ l: list.name, k }), 'utf8').toString('base64url');
}

const invalidCursor = () =>
  new ApiError(
    400,
    'invalid_request',
    'Invalid fields: cursor (not a next_cursor of this list: start again without it)',
  );

function decodeValue(kind: KeyKind, value: unknown): KeyValue {
  if (kind === 'string' && typeof value === 'string') return value;
  if (kind === 'number' && typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (kind === 'date' && value !== null && typeof value === 'object') {
    const iso = (value as { d?: unknown }).d;
    const date = typeof iso === 'string' ? new Date(iso) : undefined;
    if (date && !Number.isNaN(date.getTime())) return date;
  }
  throw invalidCursor();
}

/** The key a cursor holds; 400 invalid_request for anything this list did not give out. */
export function decodeCursor(list: PagedList, cursor: string): KeyValue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const { l, k } = (parsed ?? {}) as { l?: unknown; k?: unknown };
  if (l !== list.name || !Array.isArray(k) || k.length !== list.key.length) throw invalidCursor();
  return list.key.map((kind, i) => decodeValue(kind, k[i]));
}

/** What to ask the store for, from the validated query. */
export function pageRequest(list: PagedList, query: { cursor?: string; limit?: number }): KeysetRequest {
  return {
    limit: query.limit ?? defaultPageLimit,
    ...(query.cursor !== undefined ? { after: decodeCursor(list, query.cursor) } : {}),
  };
}

/** The `next_cursor` of a page: null when it is the last. */
export function nextCursor(list: PagedList, page: KeysetPage<unknown>): string | null {
  return page.next ? encodeCursor(list, page.next) : null;
}
