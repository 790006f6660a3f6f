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
import { emailField, instanceIdField, siteUrlField, versionField } from '../schemas/common';
import { parseBody } from '../validate';

export const registerRequest = z.object({
  instance_id: instanceIdField,
  site_url: siteUrlField,
  admin_email: emailField,
  wordpress_version: versionField.optional(),
  plugin_version: versionField.optional(),
});

export const rotateRequest = z.object({
  rotate: z
    .array(z.enum(['api_token', 'webhook_secret']))
    .min(1)
    .max(2),
});

export function pluginRoutes(deps: AppDeps, guards: Guards): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/plugins' });

  router.post('/register', guards.anonymous(), async (ctx) => {
    const registration = parseBody(ctx, registerRequest);
    try {
      const credentials = await registerInstance(deps.db, deps.secretBox, registration);
      ctx.state.log.info({ instance_id: registration.instance_id }, 'instance registered');
      ctx.status = 201;
      ctx.body = { success: true, ...credentials };
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
