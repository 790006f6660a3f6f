import { z } from 'zod';
import {
  instanceStatuses,
  registerInstance,
  rotateCredentials,
  withdrawRegistration,
} from '../../tenancy/instances';
import { newSiteVerification, sendSiteVerification } from '../../tenancy/site-verification';
import { webhookPublisher } from '../../webhooks/publish';
import { type AppDeps, callerInstance } from '../context';
import { type Route, route } from '../route';
import { emailField, instanceIdField, siteUrlField } from '../schemas/common';
import { profileFields } from './instances';

/**
 * What register_plugin() sends (includes/class-rakubun-ai-external-api.php): the instance id (a
 * UUID v4 the plugin made), where the site is, and its profile, all kept on the instance.
 */
export const registerRequest = z.object({
  instance_id: instanceIdField,
  site_url: siteUrlField,
  admin_email: emailField,
  ...profileFields,
});

/** The only answer that ever shows the credentials; the plugin stores api_token and webhook_secret. */
export const registerResponse = z.object({
  success: z.literal(true),
  instance_id: z.string(),
  api_token: z.string(),
  webhook_secret: z.string(),
  status: z.literal('registered'),
  instance_status: z
    .enum(instanceStatuses)
    .describe(
      '`pending` until the site answers the signed test_webhook (REGISTRATION_MODE=verified) or an operator approves it (approval)',
    ),
});

export const rotateRequest = z.object({
  rotate: z
    .array(z.enum(['api_token', 'webhook_secret']))
    .min(1)
    .max(2),
});

export const rotateResponse = z.object({
  success: z.literal(true),
  instance_id: z.string(),
  api_token: z.string().optional(),
  webhook_secret: z.string().optional(),
  previous_valid_for_seconds: z.number().int().nonnegative(),
});

export function pluginRoutes(deps: AppDeps): Route[] {
  return [
    route({
      method: 'post',
      path: '/api/v1/plugins/register',
      summary: 'Register a plugin instance; credentials are shown once',
      auth: 'anonymous',
      body: registerRequest,
      response: registerResponse,
      async handler(ctx, input) {
        const registration = input.body();
        const mode = deps.config.REGISTRATION_MODE;
        const instanceId = registration.instance_id;
        const verification = newSiteVerification(instanceId);
        const admission =
          mode === 'verified' ? { mode, verificationEventId: verification.event_id } : { mode };
        // An instance_id registered before is 409 already_registered (http/error-map.ts).
        const credentials = await registerInstance(deps.db, deps.secretBox, registration, admission);
        if (mode === 'verified') {
          // Queued durably before answering; if it cannot be, the registration is taken back so the
          // plugin's next try starts clean (a pending instance nobody is verifying helps no one).
          await sendSiteVerification(webhookPublisher(deps), instanceId, verification).catch(
            async (error) => {
              await withdrawRegistration(deps.db, instanceId, credentials.api_token);
              throw error;
            },
          );
        }
        ctx.state.log.info(
          { instance_id: instanceId, mode, status: credentials.instance_status },
          'instance registered',
        );
        // 200, not 201: every plugin-facing success is 200 (api-contract.md).
        ctx.status = 200;
        ctx.body = { success: true, ...credentials, status: 'registered' };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/plugins/rotate-credentials',
      summary: 'Rotate the api token and/or webhook secret',
      auth: 'plugin',
      body: rotateRequest,
      response: rotateResponse,
      async handler(ctx, input) {
        const { rotate } = input.body();
        const instance = callerInstance(ctx);
        const fresh = await rotateCredentials(
          deps.db,
          deps.secretBox,
          instance,
          [...new Set(rotate)],
          deps.config.TOKEN_ROTATION_GRACE_SECONDS,
        );
        ctx.state.log.info({ rotated: rotate }, 'credentials rotated');
        ctx.body = {
          success: true,
          instance_id: instance.instance_id,
          ...fresh,
          previous_valid_for_seconds: deps.config.TOKEN_ROTATION_GRACE_SECONDS,
        };
      },
    }),
  ];
}
