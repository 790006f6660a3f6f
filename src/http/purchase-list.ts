import type { Db } from 'mongodb';
import { z } from 'zod';
import { purchaseStatuses, statusReasons } from '../purchases/model';
import { listPurchases, type PurchaseFilter } from '../purchases/store';
import { queryPurchase } from '../purchases/workflow-client';
import type { WorkflowStarter } from '../temporal/starter';
import { mapLimit } from '../webhooks/map-limit';
import { ApiError } from './errors';
import { nextCursor, pagedLists, pagedQuery, pagedResponse, pageRequest } from './paging';
import { emailSearchField, timeBoundField } from './schemas/common';

// The operators' purchase list (`GET /admin/v1/purchases`), also the recent purchases of an
// instance's detail (`GET /admin/v1/instances/:id`), whose next_cursor continues in the list.

export const adminPurchasesQuery = pagedQuery({
  user_email: emailSearchField.optional().describe('trimmed, matched in any case'),
  instance_id: z.string().max(128).optional(),
  status: z.enum(purchaseStatuses).optional(),
  since: timeBoundField.optional().describe('created_at from (inclusive)'),
  until: timeBoundField.optional().describe('created_at to (exclusive)'),
});

/** A purchase record as stored: its terms, status and the workflow's last saved view (`outcome`). */
export const purchaseRecordSchema = z.looseObject({
  purchase_id: z.string(),
  instance_id: z.string(),
  user_id: z.string(),
  user_email: z.string(),
  package_id: z.string(),
  credit_type: z.string(),
  credits: z.number().int(),
  amount: z.number().int(),
  currency: z.string(),
  status: z.enum(purchaseStatuses),
  created_at: z.iso.datetime(),
  status_reason: z.enum(statusReasons).optional().describe('why a pending purchase waits, read from its run'),
  status_reason_since: z.iso.datetime().optional(),
});

export const purchaseListResponse = pagedResponse({ purchases: z.array(purchaseRecordSchema) });

export async function purchaseListBody(
  deps: { db: Db; workflows: Pick<WorkflowStarter, 'handle'> },
  query: PurchaseFilter & { cursor?: string; limit?: number },
) {
  const { db } = deps;
  if (query.since && query.until && query.since >= query.until) {
    throw new ApiError(400, 'invalid_request', 'Invalid fields: since (must be before until)');
  }
  const { cursor, limit, ...filter } = query;
  const page = await listPurchases(db, filter, pageRequest(pagedLists.purchases, { cursor, limit }));
  // A pending purchase's record knows nothing of why it waits: its run does (a query each, at most
  // a page of them, a few at a time).
  const purchases = await mapLimit(page.items, 8, async (item) => {
    if (item.status !== 'pending') return item;
    const live = await queryPurchase(deps.workflows, item.purchase_id);
    return live?.status_reason
      ? { ...item, status_reason: live.status_reason, status_reason_since: live.status_reason_since }
      : item;
  });
  return { purchases, next_cursor: nextCursor(pagedLists.purchases, page) };
}
