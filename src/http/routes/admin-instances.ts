import { z } from 'zod';
import { listAccounts } from '../../ledger/reads';
import {
  instanceActivity,
  listInstances,
  operatorInstance,
  operatorInstanceStatuses,
} from '../../tenancy/instance-directory';
import {
  activatePendingInstance,
  deleteInstance,
  findInstance,
  type InstanceDoc,
  publicInstance,
  setInstanceStatus,
  updateInstance,
} from '../../tenancy/instances';
import { notify } from '../../webhooks/notify';
import { webhookPublisher } from '../../webhooks/publish';
import type { AppDeps } from '../context';
import { ApiError, notFound } from '../errors';
import { nextCursor, pagedLists, pagedQuery, pagedResponse, pageRequest } from '../paging';
import { purchaseListBody, purchaseRecordSchema } from '../purchase-list';
import { type Route, type RouteContext, route } from '../route';
import { operatorAccount, operatorAccountSchema } from './admin-users';
import { publicInstanceSchema, updateInstanceRequest } from './instances';

export const disableInstanceRequest = z.object({ reason: z.string().min(1).max(500) });

export const instancesQuery = pagedQuery({
  status: z.enum(operatorInstanceStatuses).optional(),
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('part of the id, site URL, site title or admin email'),
});

/** Profile fields as the plugin sends them, and the status an operator sets (plugin_disabled / plugin_enabled). */
export const operatorUpdateInstanceRequest = updateInstanceRequest
  .extend({
    status: z.enum(['active', 'disabled']).optional(),
    disabled_reason: z.string().trim().min(1).max(500).optional().describe('with `status: "disabled"`'),
  })
  .refine((body) => body.disabled_reason === undefined || body.status === 'disabled', {
    message: 'only with status "disabled"',
    path: ['disabled_reason'],
  });

const operatorInstanceSchema = publicInstanceSchema.extend({
  status: z.enum(operatorInstanceStatuses),
  deleted_at: z.iso.datetime().nullable(),
});

const listedInstanceSchema = operatorInstanceSchema.extend({
  users_count: z.number().int().nonnegative(),
  last_activity_at: z.iso
    .datetime()
    .nullable()
    .describe(
      "the latest of the plugin's reported last_activity and its accounts' last balance-cache move (every few ledger entries)",
    ),
});

const webhookSchema = z
  .object({ event_id: z.string(), sent: z.enum(['now', 'after_outage']) })
  .nullable()
  .describe(
    'the webhook telling the plugin, stored before it is sent; null when nothing was sent or storing it failed',
  );

const instanceChangeResponse = z.object({
  success: z.literal(true),
  instance: operatorInstanceSchema,
  webhook: webhookSchema,
});

/** How many of its users and purchases an instance's detail shows; next_cursor continues in the lists. */
const detailUsers = 20;
const detailPurchases = 10;

async function listedInstance(deps: Pick<AppDeps, 'db'>, doc: InstanceDoc) {
  const activity = await instanceActivity(deps.db, doc);
  return {
    ...operatorInstance(doc),
    users_count: activity.users_count,
    last_activity_at: activity.last_activity_at?.toISOString() ?? null,
  };
}

/** The instance, unless an operator deleted it (409) or there is none (404). */
async function liveInstance(deps: Pick<AppDeps, 'db'>, instanceId: string): Promise<InstanceDoc> {
  const instance = await findInstance(deps.db, instanceId);
  if (!instance) throw notFound('Instance not found');
  if (instance.deleted_at) throw new ApiError(409, 'conflict', 'This instance was deleted');
  return instance;
}

export function adminInstanceRoutes(deps: AppDeps): Route[] {
  // The status change is what the operator asked for and stands on its own; the webhook telling the
  // plugin is stored first (notify.ts): null in the answer only when even that failed (logged).
  const tell = (
    ctx: RouteContext,
    instanceId: string,
    event: 'plugin_disabled' | 'plugin_enabled',
    data: Record<string, unknown>,
  ) =>
    notify(webhookPublisher(deps), ctx.state.log, { to: 'instance', instance_id: instanceId, event, data });

  /** Sets the status an operator asked for and tells the plugin; nothing (and no webhook) when it already is. */
  const changeStatus = async (
    ctx: RouteContext,
    instance: InstanceDoc,
    status: 'active' | 'disabled',
    reason: string | undefined,
  ) => {
    if (instance.status === status) return { instance, webhook: null };
    const updated = await setInstanceStatus(deps.db, instance.instance_id, status, reason);
    if (!updated) throw notFound('Instance not found');
    ctx.state.log.info({ instance_id: updated.instance_id, status, reason }, 'instance status set');
    const webhook =
      status === 'disabled'
        ? await tell(ctx, updated.instance_id, 'plugin_disabled', {
            reason: updated.disabled_reason ?? 'disabled by operator',
            disabled_at: updated.updated_at.toISOString(),
          })
        : await tell(ctx, updated.instance_id, 'plugin_enabled', {
            enabled_at: updated.updated_at.toISOString(),
          });
    return { instance: updated, webhook };
  };

  return [
    route({
      method: 'get',
      path: '/admin/v1/instances',
      summary: 'Instances, newest first (paged), with users count and last activity',
      auth: 'admin',
      query: instancesQuery,
      response: pagedResponse({ instances: z.array(listedInstanceSchema) }),
      async handler(ctx, input) {
        const query = input.query();
        const page = await listInstances(
          deps.db,
          { status: query.status, q: query.q },
          pageRequest(pagedLists.instances, query),
        );
        ctx.body = {
          success: true,
          instances: await Promise.all(page.items.map((doc) => listedInstance(deps, doc))),
          next_cursor: nextCursor(pagedLists.instances, page),
        };
      },
    }),
    route({
      method: 'get',
      path: '/admin/v1/instances/:id',
      summary: 'An instance with its users and recent purchases',
      auth: 'admin',
      response: z.object({
        success: z.literal(true),
        instance: listedInstanceSchema,
        users: z.array(operatorAccountSchema(deps.config.CREDIT_TYPES)),
        users_next_cursor: z
          .string()
          .nullable()
          .describe('continues in GET /admin/v1/users?instance_id=<id>'),
        recent_purchases: z.array(purchaseRecordSchema),
        purchases_next_cursor: z
          .string()
          .nullable()
          .describe('continues in GET /admin/v1/purchases?instance_id=<id>'),
      }),
      async handler(ctx) {
        const instance = await findInstance(deps.db, ctx.params.id ?? '');
        if (!instance) throw notFound('Instance not found');
        const filter = { instance_id: instance.instance_id };
        const [listed, users, purchases] = await Promise.all([
          listedInstance(deps, instance),
          listAccounts(deps.db, deps.config.CREDIT_TYPES, filter, { limit: detailUsers }),
          purchaseListBody(deps, { ...filter, limit: detailPurchases }),
        ]);
        ctx.body = {
          success: true,
          instance: listed,
          users: users.items.map(operatorAccount),
          users_next_cursor: nextCursor(pagedLists.users, users),
          recent_purchases: purchases.purchases,
          purchases_next_cursor: purchases.next_cursor,
        };
      },
    }),
    route({
      method: 'put',
      path: '/admin/v1/instances/:id',
      summary: 'Change an instance profile and status (plugin_disabled / plugin_enabled)',
      auth: 'admin',
      body: operatorUpdateInstanceRequest,
      response: instanceChangeResponse,
      async handler(ctx, input) {
        let instance = await liveInstance(deps, ctx.params.id ?? '');
        const { status, disabled_reason, ...profile } = input.body();
        if (status === 'active' && instance.status === 'pending') {
          throw new ApiError(
            409,
            'conflict',
            'This instance is pending: approve it (POST .../approve) instead',
          );
        }
        // The operator's word is enough: a new site_url is not sent back to verification or approval.
        if (Object.values(profile).some((value) => value !== undefined && value !== null)) {
          instance = (await updateInstance(deps.db, instance, profile)) ?? instance;
        }
        const changed = status ? await changeStatus(ctx, instance, status, disabled_reason) : undefined;
        ctx.body = {
          success: true,
          instance: operatorInstance(changed?.instance ?? instance),
          webhook: changed?.webhook ?? null,
        };
      },
    }),
    route({
      method: 'delete',
      path: '/admin/v1/instances/:id',
      summary: 'Delete an instance: its credentials stop working, its ledger is kept (plugin_disabled)',
      auth: 'admin',
      response: instanceChangeResponse,
      async handler(ctx) {
        const result = await deleteInstance(deps.db, ctx.params.id ?? '');
        if (!result) throw notFound('Instance not found');
        let webhook: Awaited<ReturnType<typeof tell>> = null;
        if (result.deletedNow) {
          ctx.state.log.info({ instance_id: result.instance.instance_id }, 'instance deleted');
          webhook = await tell(ctx, result.instance.instance_id, 'plugin_disabled', {
            reason: 'deleted by operator',
            disabled_at: result.instance.updated_at.toISOString(),
          });
        }
        ctx.body = { success: true, instance: operatorInstance(result.instance), webhook };
      },
    }),
    route({
      method: 'post',
      path: '/admin/v1/instances/:id/disable',
      summary: 'Disable an instance (plugin_disabled)',
      auth: 'admin',
      body: disableInstanceRequest,
      async handler(ctx, input) {
        const { reason } = input.body();
        await liveInstance(deps, ctx.params.id ?? '');
        const updated = await setInstanceStatus(deps.db, ctx.params.id ?? '', 'disabled', reason);
        if (!updated) throw notFound('Instance not found');
        ctx.state.log.info({ instance_id: updated.instance_id, reason }, 'instance disabled');
        const webhook = await tell(ctx, updated.instance_id, 'plugin_disabled', {
          reason,
          disabled_at: updated.updated_at.toISOString(),
        });
        ctx.body = { success: true, instance: publicInstance(updated), webhook };
      },
    }),
    // REGISTRATION_MODE=approval (or a verification the operator vouches for): pending becomes active.
    route({
      method: 'post',
      path: '/admin/v1/instances/:id/approve',
      summary: 'Let a pending instance in (409 if it is not pending)',
      auth: 'admin',
      async handler(ctx) {
        const instanceId = ctx.params.id ?? '';
        const approved = await activatePendingInstance(deps.db, instanceId);
        if (!approved) {
          const instance = await findInstance(deps.db, instanceId);
          if (!instance) throw notFound('Instance not found');
          throw new ApiError(409, 'conflict', `This instance is ${instance.status}, not pending`);
        }
        ctx.state.log.info({ instance_id: instanceId }, 'instance approved');
        ctx.body = { success: true, instance: publicInstance(approved) };
      },
    }),
    route({
      method: 'post',
      path: '/admin/v1/instances/:id/enable',
      summary: 'Enable an instance (plugin_enabled)',
      auth: 'admin',
      async handler(ctx) {
        const pending = await liveInstance(deps, ctx.params.id ?? '');
        if (pending.status === 'pending') {
          throw new ApiError(
            409,
            'conflict',
            'This instance is pending: approve it (POST .../approve) instead',
          );
        }
        if (pending.status === 'active') {
          // Already active: nothing changes, so the plugin is told nothing.
          ctx.body = { success: true, instance: publicInstance(pending), webhook: null };
          return;
        }
        const updated = await setInstanceStatus(deps.db, ctx.params.id ?? '', 'active', undefined);
        if (!updated) throw notFound('Instance not found');
        ctx.state.log.info({ instance_id: updated.instance_id }, 'instance enabled');
        const webhook = await tell(ctx, updated.instance_id, 'plugin_enabled', {
          enabled_at: updated.updated_at.toISOString(),
        });
        ctx.body = { success: true, instance: publicInstance(updated), webhook };
      },
    }),
  ];
}
