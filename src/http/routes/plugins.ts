import Router from '@koa/router';
import { z } from 'zod';
import {
  AlreadyRegisteredError,
  RotationConflictError,
  registerInstance,
  rotateCredentials,
} from '../../tenancy/instances';
import { type AppDeps, type AppState, callerInstance } from '../context';
import { ApiError } from '../errors';
import type { Guards } from '../guards';
import { emailField, instanceIdField, siteUrlField } from '../schemas/common';
import { parseBody } from '../validate';
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

export function pluginRoutes(deps: AppDeps, guards: Guards): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/plugins' });

  router.post('/register', guards.anonymous(), async (ctx) => {
    const registration = parseBody(ctx, registerRequest);
    try {
      const credentials = await registerInstance(deps.db, deps.secretBox, registration);
      ctx.state.log.info({ instance_id: registration.instance_id }, 'instance registered');
      // 200, not 201: every plugin-facing success is 200 (api-contract.md).
      ctx.status = 200;
      ctx.body = { success: true, ...credentials, status: 'registered' };
    } catch (error) {
      // No credentials to strangers: a registered id can only rotate, authenticated.
      if (error instanceof AlreadyRegisteredError) {
        throw new ApiError(409, 'already_registered', 'This instance_id is already registered');
      }
      throw error;
    }
  });

  router.post('/rotate-credentials', guards.plugin(), async (ctx) => {
    const { rotate } = parseBody(ctx, rotateRequest);
    const instance = callerInstance(ctx);
    try {
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
    } catch (error) {
      if (error instanceof RotationConflictError) {
        throw new ApiError(409, 'conflict', 'Another rotation is in progress; retry');
      }
      throw error;
    }
  });

  return router;
}
