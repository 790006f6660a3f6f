import { z } from 'zod';
import {
  instanceStatuses,
  needsReadmission,
  pendingReasons,
  publicInstance,
  updateInstance,
} from '../../tenancy/instances';
import { newSiteVerification, sendSiteVerification } from '../../tenancy/site-verification';
import { webhookPublisher } from '../../webhooks/publish';
import { type AppDeps, callerInstance } from '../context';
import { notFound } from '../errors';
import { type Route, type RouteContext, route } from '../route';
import { emailField, integerField, pluginTimeField, siteUrlField, versionField } from '../schemas/common';

const text = (max: number) => z.string().max(max).nullish();
const count = integerField({ min: 0 }).nullish();
const time = pluginTimeField.nullish();

/**
 * What a plugin says about its site (register_plugin() sends all of it). Optional fields may be
 * null, meaning "not given". Counts may be integers or decimal strings; timestamps are MySQL local
 * time (read in `timezone`) or ISO 8601.
 */
export const profileFields = {
  site_title: text(500),
  wordpress_version: versionField.nullish(),
  plugin_version: versionField.nullish(),
  php_version: versionField.nullish(),
  theme: text(200),
  timezone: text(64).describe('IANA zone (`Asia/Tokyo`), an offset (`+09:00`) or `UTC`'),
  language: text(35).describe('WordPress locale, e.g. `ja` or `en_US`'),
  post_count: count,
  page_count: count,
  media_count: count,
  activation_date: time,
  last_activity: time,
};

export const updateInstanceRequest = z.object({
  site_url: siteUrlField.nullish(),
  admin_email: emailField.nullish(),
  ...profileFields,
});

const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

/** The instance as plugins see it: its profile and status, never a credential. */
export const publicInstanceSchema = z.object({
  instance_id: z.string(),
  site_url: z.string(),
  admin_email: z.string(),
  site_title: nullable(z.string()),
  wordpress_version: nullable(z.string()),
  plugin_version: nullable(z.string()),
  php_version: nullable(z.string()),
  theme: nullable(z.string()),
  timezone: nullable(z.string()),
  language: nullable(z.string()),
  post_count: nullable(z.number().int()),
  page_count: nullable(z.number().int()),
  media_count: nullable(z.number().int()),
  activation_date: nullable(z.iso.datetime()).describe('ISO 8601, UTC'),
  last_activity: nullable(z.iso.datetime()).describe('ISO 8601, UTC'),
  status: z.enum(instanceStatuses),
  disabled_reason: nullable(z.string()),
  pending_reason: nullable(z.enum(pendingReasons)).describe(
    'Why a pending instance waits: `site_verification` (its site has not yet answered the signed test_webhook) or `operator_approval`',
  ),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

export const instanceResponse = z.object({ success: z.literal(true), instance: publicInstanceSchema });

/** A plugin sees only itself: any other id is 404, the same as an id that does not exist. */
function ownInstance(ctx: RouteContext) {
  const instance = callerInstance(ctx);
  if (ctx.params.id !== instance.instance_id) throw notFound('Instance not found');
  return instance;
}

export function instanceRoutes(deps: AppDeps): Route[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/instances/:id',
      summary: 'The calling instance and its profile',
      auth: 'plugin',
      whilePending: true,
      response: instanceResponse,
      handler(ctx) {
        ctx.body = { success: true, instance: publicInstance(ownInstance(ctx)) };
      },
    }),
    route({
      method: 'put',
      path: '/api/v1/instances/:id',
      summary: 'Update the calling instance profile',
      auth: 'plugin',
      whilePending: true,
      body: updateInstanceRequest,
      response: instanceResponse,
      async handler(ctx, input) {
        const instance = ownInstance(ctx);
        const patch = input.body();
        const mode = deps.config.REGISTRATION_MODE;
        const verification = newSiteVerification(instance.instance_id);
        const readmission = !needsReadmission(instance, patch.site_url, mode)
          ? undefined
          : mode === 'verified'
            ? { mode, verificationEventId: verification.event_id }
            : { mode: 'approval' as const };
        const updated = await updateInstance(deps.db, instance, patch, new Date(), readmission);
        if (!updated) throw notFound('Instance not found');
        if (readmission?.mode === 'verified') {
          // If this fails the instance stays pending; the same PUT sends a new verification.
          await sendSiteVerification(webhookPublisher(deps), instance.instance_id, verification);
        }
        if (readmission)
          ctx.state.log.info({ site_url: updated.site_url, mode }, 'site changed: instance pending again');
        ctx.body = { success: true, instance: publicInstance(updated) };
      },
    }),
  ];
}
