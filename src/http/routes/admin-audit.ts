import { z } from 'zod';
import { type AdminAuditDoc, listAuditRecords } from '../../audit/admin-audit';
import type { AppDeps } from '../context';
import { nextCursor, type PagedList, pagedQuery, pagedResponse, pageRequest } from '../paging';
import { type Route, route } from '../route';
import { isoDateField } from '../schemas/common';

/** at, record id (audit/admin-audit.ts). */
const auditList: PagedList = { name: 'audit', key: ['date', 'string'] };

export const auditQuery = pagedQuery({
  operator: z
    .string()
    .regex(/^[a-z0-9_-]{1,64}$/, { message: 'expected an operator name' })
    .optional(),
  since: isoDateField.optional(),
  until: isoDateField.optional(),
});

const auditRecord = z.object({
  id: z.string(),
  at: z.iso.datetime(),
  operator: z.string(),
  request_id: z.string(),
  method: z.string(),
  route: z.string(),
  targets: z.record(z.string(), z.string()),
  summary: z.string(),
  /** The answer's status; null while in flight, or if the request ended without closing its record. */
  status: z.number().int().nullable(),
  replayed: z.boolean(),
});

export const auditResponse = pagedResponse({ records: z.array(auditRecord) });

function publicRecord(doc: AdminAuditDoc): z.infer<typeof auditRecord> {
  return {
    id: doc._id,
    at: doc.at.toISOString(),
    operator: doc.operator,
    request_id: doc.request_id,
    method: doc.method,
    route: doc.route,
    targets: doc.targets,
    summary: doc.summary,
    status: doc.status ?? null,
    replayed: doc.replayed ?? false,
  };
}

/** `GET /admin/v1/audit`: every admin write, newest first, by operator and time. */
export function adminAuditRoutes(deps: Pick<AppDeps, 'db'>): Route[] {
  return [
    route({
      method: 'get',
      path: '/admin/v1/audit',
      summary: 'Admin writes, newest first: who, when, which request, what',
      auth: 'admin',
      query: auditQuery,
      response: auditResponse,
      async handler(ctx, input) {
        const query = input.query();
        const page = await listAuditRecords(
          deps.db,
          {
            operator: query.operator,
            since: query.since ? new Date(query.since) : undefined,
            until: query.until ? new Date(query.until) : undefined,
          },
          pageRequest(auditList, query),
        );
        ctx.body = {
          success: true,
          records: page.items.map(publicRecord),
          next_cursor: nextCursor(auditList, page),
        };
      },
    }),
  ];
}
