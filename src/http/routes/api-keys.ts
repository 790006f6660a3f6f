import { z } from 'zod';
import { createApiKey, listApiKeys, revokeApiKey } from '../../tenancy/api-keys';
import { scopes } from '../../tenancy/scopes';
import { type AppDeps, callerInstance } from '../context';
import { ApiError, notFound } from '../errors';
import { type Route, route } from '../route';
import { isoDateField } from '../schemas/common';

export const createApiKeyRequest = z.object({
  name: z.string().min(1).max(100),
  scopes: z.array(z.enum(scopes)).min(1),
  expires_at: isoDateField.optional(),
});

/** A key as the API shows it: `key` is the full value only in the create answer, masked after. */
export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  key: z.string(),
  scopes: z.array(z.enum(scopes)),
  expires_at: z.iso.datetime().nullable(),
  revoked_at: z.iso.datetime().nullable(),
  created_at: z.iso.datetime(),
});
export const apiKeyResponse = z.object({ success: z.literal(true), api_key: apiKeySchema });
export const apiKeysResponse = z.object({ success: z.literal(true), api_keys: z.array(apiKeySchema) });

// Managing keys needs the instance's own token (no `scope`): a scoped key cannot mint or revoke keys.
export function apiKeyRoutes(deps: AppDeps): Route[] {
  return [
    route({
      method: 'post',
      path: '/api/v1/api-keys',
      summary: 'Create a scoped API key (shown once)',
      auth: 'plugin',
      body: createApiKeyRequest,
      response: apiKeyResponse,
      status: 201,
      async handler(ctx, input) {
        const request = input.body();
        const expiresAt = request.expires_at ? new Date(request.expires_at) : undefined;
        if (expiresAt && expiresAt <= new Date()) {
          throw new ApiError(400, 'invalid_request', 'Invalid fields: expires_at (must be in the future)');
        }
        const key = await createApiKey(deps.db, {
          instance_id: callerInstance(ctx).instance_id,
          name: request.name,
          scopes: [...new Set(request.scopes)],
          expires_at: expiresAt,
        });
        ctx.status = 201;
        ctx.body = { success: true, api_key: key };
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/api-keys',
      summary: 'List API keys, masked',
      auth: 'plugin',
      response: apiKeysResponse,
      async handler(ctx) {
        ctx.body = { success: true, api_keys: await listApiKeys(deps.db, callerInstance(ctx).instance_id) };
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/api-keys/:keyId',
      summary: 'Revoke an API key',
      auth: 'plugin',
      response: apiKeyResponse,
      async handler(ctx) {
        const revoked = await revokeApiKey(deps.db, callerInstance(ctx).instance_id, ctx.params.keyId ?? '');
        if (!revoked) throw notFound('API key not found');
        ctx.body = { success: true, api_key: revoked };
      },
    }),
  ];
}
