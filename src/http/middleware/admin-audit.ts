import type { Middleware } from 'koa';
import type { Db } from 'mongodb';
import { closeAuditRecord, openAuditRecord } from '../../audit/admin-audit';
import type { AppState } from '../context';
import { toApiError } from '../error-map';

// What an admin write's audit record keeps of the request: ids of what it is about (from the path,
// the query and the body) and the changed fields of a short list. Anything else (config values,
// provider keys, whole bodies) is never copied.
const targetFields = ['id', 'key', 'instance_id', 'user_id', 'package_id', 'endpoint_id', 'provider'];
const changeFields = [
  'credit_type',
  'delta',
  'reason',
  'expires_at',
  'event',
  'name',
  'credits',
  'bonus_credits',
  'price',
  'active',
  'status',
  'since',
  'dry_run',
];
const countedFields = ['event_ids', 'event_types', 'instance_ids'];
const maxValue = 200;

const shorten = (value: string) => (value.length > maxValue ? `${value.slice(0, maxValue)}…` : value);

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return shorten(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function describe(field: string, value: unknown): string | undefined {
  if (countedFields.includes(field)) return Array.isArray(value) ? `${field}=${value.length}` : undefined;
  if (field === 'price' && value && typeof value === 'object') {
    const { amount, currency } = value as { amount?: unknown; currency?: unknown };
    const shown = [scalar(amount), scalar(currency)].filter(Boolean).join(' ');
    return shown ? `price=${shown}` : undefined;
  }
  const shown = scalar(value);
  if (shown === undefined) return undefined;
  return typeof value === 'string' ? `${field}=${JSON.stringify(shown)}` : `${field}=${shown}`;
}

function recordOf(sources: Array<Record<string, unknown> | undefined>) {
  const targets: Record<string, string> = {};
  const changes: string[] = [];
  for (const source of sources) {
    if (!source || typeof source !== 'object' || Array.isArray(source)) continue;
    for (const field of targetFields) {
      const value = scalar(source[field]);
      if (value !== undefined) targets[field] ??= value;
    }
    for (const field of [...changeFields, ...countedFields]) {
      const described = field in source ? describe(field, source[field]) : undefined;
      if (described) changes.push(described);
    }
  }
  return { targets, changes };
}

/**
 * An admin write's audit record: written before the handler (a write that cannot be recorded is not
 * made: 500), closed with the answer's status before the answer leaves. Handlers may add targets
 * and notes through `ctx.state.audit`.
 */
export function adminAudit(
  db: Db,
  declared: { method: string; path: string; summary: string },
): Middleware<AppState> {
  return async (ctx, next) => {
    const params = (ctx as { params?: Record<string, unknown> }).params;
    const { targets, changes } = recordOf([params, ctx.query, ctx.state.body as Record<string, unknown>]);
    const audit = { targets, notes: changes };
    ctx.state.audit = audit;
    const summaryOf = () => [declared.summary, ...audit.notes].join('; ');
    const id = await openAuditRecord(db, {
      operator: ctx.state.operator ?? 'unknown',
      request_id: ctx.state.requestId,
      method: declared.method.toUpperCase(),
      route: declared.path,
      targets,
      summary: summaryOf(),
    });
    let status = 500;
    try {
      await next();
      status = ctx.status;
    } catch (error) {
      status = toApiError(error)?.status ?? 500;
      throw error;
    } finally {
      await closeAuditRecord(db, id, {
        status,
        replayed: ctx.response.get('Idempotent-Replayed') === 'true',
        targets: audit.targets,
        summary: summaryOf(),
      }).catch((error) =>
        ctx.state.log.error({ err: error, audit_id: id }, 'closing an audit record failed'),
      );
    }
  };
}
