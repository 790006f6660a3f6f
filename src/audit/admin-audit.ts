import { randomUUID } from 'node:crypto';
import type { Db, Filter } from 'mongodb';
import { collectionNames } from '../mongo/collections';
import {
  allOf,
  descendingAfter,
  type KeysetPage,
  type KeysetRequest,
  readPage,
  timeRange,
} from '../mongo/keyset';

// Who changed what from the admin side: one record per admin write (any /admin/v1 route but a
// GET), opened before the route's handler runs and closed with its answer's status. Only ids and a
// short summary of the change are kept: never a token, a key or a whole body.

export interface AdminAuditDoc {
  _id: string;
  /** When the request arrived. */
  at: Date;
  /** The operator whose token it carried (`admin` for ADMIN_API_TOKEN). */
  operator: string;
  /** The X-Request-ID of the answer (also on the request's log lines and ledger entries). */
  request_id: string;
  method: string;
  /** The declared route, e.g. `/admin/v1/instances/:id/disable`. */
  route: string;
  /** What the change is about: instance, user, package, endpoint, ledger entry ids... */
  targets: Record<string, string>;
  /** The route's summary and the changed fields (`delta=5 reason="goodwill"`). */
  summary: string;
  /** The answer's HTTP status; absent while the request is in flight (or if its close was lost). */
  status?: number;
  /** The answer was an Idempotency-Key replay: nothing was changed again. */
  replayed?: boolean;
  finished_at?: Date;
}

export function adminAuditRecords(db: Db) {
  return db.collection<AdminAuditDoc>(collectionNames.adminAudit);
}

export type OpenAudit = Pick<
  AdminAuditDoc,
  'operator' | 'request_id' | 'method' | 'route' | 'targets' | 'summary'
>;

/** Writes the record of a request about to change something; its id closes it. */
export async function openAuditRecord(db: Db, record: OpenAudit, at = new Date()): Promise<string> {
  const _id = randomUUID();
  await adminAuditRecords(db).insertOne({ _id, at, ...record });
  return _id;
}

export async function closeAuditRecord(
  db: Db,
  id: string,
  outcome: Pick<AdminAuditDoc, 'status' | 'replayed' | 'targets' | 'summary'>,
): Promise<void> {
  await adminAuditRecords(db).updateOne({ _id: id }, { $set: { ...outcome, finished_at: new Date() } });
}

export interface AuditFilter {
  operator?: string;
  /** `at` from (inclusive) and until (exclusive). */
  since?: Date;
  until?: Date;
}

const listOrder = ['at', '_id'];

/** Newest first, a page at a time (mongo/keyset.ts; the key is the time and the record's id). */
export async function listAuditRecords(
  db: Db,
  filter: AuditFilter,
  page: KeysetRequest,
): Promise<KeysetPage<AdminAuditDoc>> {
  const query = allOf(
    filter.operator !== undefined ? { operator: filter.operator } : undefined,
    timeRange('at', filter),
    descendingAfter(listOrder, page.after),
  ) as Filter<AdminAuditDoc>;
  return readPage(adminAuditRecords(db).find(query), listOrder, page, (doc) => [doc.at, doc._id]);
}
