import type { Db } from 'mongodb';
import { collectionNames } from '../mongo/collections';
import { allOf, descendingAfter, type KeysetPage, type KeysetRequest, readPage } from '../mongo/keyset';
import { containsText } from '../mongo/text-match';
import {
  type InstanceDoc,
  instanceStatuses,
  instances,
  type PublicInstance,
  publicInstance,
} from './instances';

// The instances as operators look them up: by status, by a search over id, site, title and admin
// email, newest first, with how many users each has and when it was last active.

/** What an operator filters on: the stored statuses, and `deleted` (disabled by a delete, no credentials). */
export const operatorInstanceStatuses = [...instanceStatuses, 'deleted'] as const;
export type OperatorInstanceStatus = (typeof operatorInstanceStatuses)[number];

export interface InstanceListFilter {
  status?: OperatorInstanceStatus;
  /** Part of the instance id, site URL, site title or admin email, in any case. */
  q?: string;
}

function statusFilter(status: OperatorInstanceStatus | undefined) {
  if (status === undefined) return undefined;
  if (status === 'deleted') return { deleted_at: { $exists: true } };
  return { status, deleted_at: { $exists: false } };
}

const listOrder = ['created_at', 'instance_id'];

export async function listInstances(
  db: Db,
  filter: InstanceListFilter,
  page: KeysetRequest,
): Promise<KeysetPage<InstanceDoc>> {
  const search = filter.q?.trim()
    ? {
        $or: ['instance_id', 'site_url', 'site_title', 'admin_email'].map((field) => ({
          [field]: containsText(filter.q!),
        })),
      }
    : undefined;
  const found = instances(db).find(
    allOf(statusFilter(filter.status), search, descendingAfter(listOrder, page.after)),
    { projection: { _id: 0 } },
  );
  return readPage(found, listOrder, page, (doc) => [doc.created_at, doc.instance_id]);
}

export interface InstanceActivity {
  users_count: number;
  last_activity_at: Date | null;
}

/**
 * How many accounts an instance has (the `count` command: the driver's countDocuments is a `$group`
 * with `{$sum: 1}`, which FerretDB answered 0), and when it was last active: the latest of the
 * last_activity its plugin reported and the last move of its accounts' balance cache (which moves
 * every few entries, so it may be a few entries old).
 */
export async function instanceActivity(db: Db, instance: InstanceDoc): Promise<InstanceActivity> {
  const accounts = db.collection(collectionNames.ledgerAccounts);
  const [counted, latest] = await Promise.all([
    db.command({ count: collectionNames.ledgerAccounts, query: { instance_id: instance.instance_id } }),
    accounts
      .find({ instance_id: instance.instance_id }, { projection: { _id: 0, updated_at: 1 } })
      .sort({ updated_at: -1 })
      .limit(1)
      .toArray(),
  ]);
  const times = [instance.last_activity, latest[0]?.updated_at as Date | undefined].filter(
    (time): time is Date => time instanceof Date,
  );
  return {
    users_count: Number(counted.n ?? 0),
    last_activity_at: times.length > 0 ? new Date(Math.max(...times.map((time) => time.getTime()))) : null,
  };
}

/** The instance as operators see it: the plugin's view (never a credential), and whether it was deleted. */
export interface OperatorInstance extends Omit<PublicInstance, 'status'> {
  status: OperatorInstanceStatus;
  deleted_at: string | null;
}

export function operatorInstance(doc: InstanceDoc): OperatorInstance {
  return {
    ...publicInstance(doc),
    status: doc.deleted_at ? 'deleted' : doc.status,
    deleted_at: doc.deleted_at?.toISOString() ?? null,
  };
}
