import { z } from 'zod';
import type { Config } from '../config';
import { tasks } from '../plugin-config/providers';
import { adjustCreditsRequest } from './routes/admin-credits';
import { disableInstanceRequest } from './routes/admin-instances';
import { packageRequests } from './routes/admin-packages';
import {
  adminReplayRequest,
  broadcastRequest,
  deadLettersQuery,
  notificationsQuery,
} from './routes/admin-webhooks';
import { generationEventRequest, generationResponse, usageRequest, usageResponse } from './routes/analytics';
import { apiKeyResponse, apiKeysResponse, createApiKeyRequest } from './routes/api-keys';
import { authDebugResponse } from './routes/auth-debug';
import { creditsQuery, creditsResponse, deductRequest, deductResponse } from './routes/credits';
import { healthResponse } from './routes/health';
import { instanceResponse, updateInstanceRequest } from './routes/instances';
import { packagesResponse } from './routes/packages';
import {
  pluginConfigResponse,
  putConfigQuery,
  putConfigRequest,
  stripeConfigResponse,
} from './routes/plugin-config';
import { registerRequest, registerResponse, rotateRequest, rotateResponse } from './routes/plugins';
import {
  adminProviderQuery,
  adminProviderResponse,
  adminPutProviderRequest,
  adminPutProviderResponse,
  openAiConfigResponse,
  providerConfigResponse,
  providerQuery,
  providersResponse,
  putProviderRequest,
  putProviderResponse,
  taskConfigResponse,
} from './routes/provider-config';
import {
  adminPurchasesQuery,
  checkoutSessionRequest,
  checkoutSessionResponse,
  confirmPaymentRequest,
  createIntentRequest,
  createIntentResponse,
  purchaseResponse,
  verifiedPurchaseResponse,
  verifyCheckoutRequest,
} from './routes/purchases';
import { stripeWebhookHealthResponse, stripeWebhookResponse } from './routes/stripe-webhook';
import {
  attemptsQuery,
  attemptsResponse,
  createWebhookRequest,
  deleteEndpointResponse,
  enableRequest,
  enableResponse,
  endpointResponse,
  endpointsResponse,
  replayRequest,
  replayResponse,
  testSendResponse,
} from './routes/webhooks';

// The OpenAPI document, made from the same zod schemas that validate the requests, so the two cannot
// drift. test/http/openapi.test.ts checks that every route the app serves is listed here.

type Security = 'none' | 'plugin' | 'admin' | 'stripe';

interface Operation {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  summary: string;
  security: Security;
  scope?: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** Honours Idempotency-Key. */
  idempotent?: boolean;
  /** The success body (`success: true` and the fields the plugin reads); tests check real answers. */
  response?: z.ZodType;
}

export function apiOperations(config: Pick<Config, 'CREDIT_TYPES'>): Operation[] {
  const types = config.CREDIT_TYPES;
  const packages = packageRequests(types);
  const op = (
    method: Operation['method'],
    path: string,
    summary: string,
    security: Security,
    extra: Partial<Operation> = {},
  ): Operation => ({ method, path, summary, security, ...extra });
  return [
    op('get', '/health', 'Whether Temporal and MongoDB answer', 'none', { response: healthResponse }),
    op('get', '/openapi.json', 'This document', 'none'),
    op('get', '/api/v1/auth/debug', 'Which auth headers arrived and whether they are valid', 'none', {
      response: authDebugResponse,
    }),
    op('post', '/api/v1/plugins/register', 'Register a plugin instance; credentials are shown once', 'none', {
      body: registerRequest,
      response: registerResponse,
    }),
    op('post', '/api/v1/plugins/rotate-credentials', 'Rotate the api token and/or webhook secret', 'plugin', {
      body: rotateRequest,
      response: rotateResponse,
    }),
    op('get', '/api/v1/instances/{id}', 'The calling instance and its profile', 'plugin', {
      response: instanceResponse,
    }),
    op('put', '/api/v1/instances/{id}', 'Update the calling instance profile', 'plugin', {
      body: updateInstanceRequest,
      response: instanceResponse,
    }),
    op('post', '/api/v1/api-keys', 'Create a scoped API key (shown once)', 'plugin', {
      body: createApiKeyRequest,
      response: apiKeyResponse,
    }),
    op('get', '/api/v1/api-keys', 'List API keys, masked', 'plugin', { response: apiKeysResponse }),
    op('delete', '/api/v1/api-keys/{keyId}', 'Revoke an API key', 'plugin', { response: apiKeyResponse }),
    op('get', '/api/v1/packages', 'Active credit packages, grouped by credit type', 'none', {
      response: packagesResponse(types),
    }),
    op('get', '/api/v1/users/credits', "A user's balances", 'plugin', {
      scope: 'credits:read',
      query: creditsQuery,
      response: creditsResponse(types),
    }),
    op('post', '/api/v1/users/deduct-credits', 'Spend credits (never below zero)', 'plugin', {
      scope: 'credits:write',
      body: deductRequest(types),
      idempotent: true,
      response: deductResponse(types),
    }),
    op('post', '/api/v1/analytics/generation', 'Record one generation (log_generation)', 'plugin', {
      scope: 'analytics:write',
      body: generationEventRequest(types),
      response: generationResponse,
    }),
    op(
      'post',
      '/api/v1/analytics/usage',
      "The plugin's hourly sync, or up to 1000 events (each row stored once)",
      'plugin',
      {
        scope: 'analytics:write',
        body: usageRequest(types),
        response: usageResponse,
      },
    ),
    op('post', '/api/v1/checkout/sessions', 'Start a purchase with a Stripe Checkout Session', 'plugin', {
      scope: 'payments:write',
      body: checkoutSessionRequest,
      idempotent: true,
      response: checkoutSessionResponse,
    }),
    op(
      'post',
      '/api/v1/checkout/verify',
      'The buyer is back from Checkout: have Stripe read now; 402 unpaid, 202 still processing',
      'plugin',
      { scope: 'payments:write', body: verifyCheckoutRequest, response: verifiedPurchaseResponse(types) },
    ),
    op('post', '/api/v1/payments/create-intent', 'Start a purchase with a Stripe PaymentIntent', 'plugin', {
      scope: 'payments:write',
      body: createIntentRequest,
      idempotent: true,
      response: createIntentResponse,
    }),
    op(
      'post',
      '/api/v1/payments/confirm',
      'Have a PaymentIntent read from Stripe now; 402 unpaid, 202 still processing',
      'plugin',
      { scope: 'payments:write', body: confirmPaymentRequest, response: verifiedPurchaseResponse(types) },
    ),
    op('get', '/api/v1/purchases/{purchaseId}', 'A purchase and its state', 'plugin', {
      scope: 'payments:read',
      response: purchaseResponse,
    }),
    op('post', '/api/v1/stripe/webhook', 'Stripe events (Stripe-Signature over the raw body)', 'stripe', {
      response: stripeWebhookResponse,
    }),
    op('get', '/api/v1/stripe/webhook/health', 'Whether Stripe events can be accepted', 'none', {
      response: stripeWebhookHealthResponse,
    }),
    op('get', '/api/v1/config/provider', 'AI provider settings for this instance', 'plugin', {
      scope: 'config:read',
      query: providerQuery,
      response: providerConfigResponse,
    }),
    op('put', '/api/v1/config/provider', 'Save AI provider settings for this instance', 'plugin', {
      body: putProviderRequest,
      response: putProviderResponse,
    }),
    op('get', '/api/v1/config/providers', 'Known AI providers and those this instance can use', 'plugin', {
      scope: 'config:read',
      response: providersResponse,
    }),
    op('get', '/api/v1/config/openai', 'OpenAI settings (deprecated: use /config/provider)', 'plugin', {
      scope: 'config:read',
      response: openAiConfigResponse,
    }),
    ...tasks.map((task) =>
      op('get', `/api/v1/config/${task}`, `AI settings for ${task} generation`, 'plugin', {
        scope: 'config:read',
        query: providerQuery,
        response: taskConfigResponse,
      }),
    ),
    op('get', '/api/v1/config/stripe', 'The Stripe publishable key', 'plugin', {
      scope: 'config:read',
      response: stripeConfigResponse,
    }),
    op('get', '/api/v1/config/{key}', 'Operator-set plugin configuration', 'plugin', {
      scope: 'config:read',
      response: pluginConfigResponse,
    }),
    op('post', '/api/v1/webhooks', 'Register a webhook endpoint', 'plugin', {
      scope: 'webhooks:manage',
      body: createWebhookRequest,
      response: endpointResponse,
    }),
    op('get', '/api/v1/webhooks', 'List webhook endpoints', 'plugin', {
      scope: 'webhooks:manage',
      response: endpointsResponse,
    }),
    op('get', '/api/v1/webhooks/{id}', 'One webhook endpoint', 'plugin', {
      scope: 'webhooks:manage',
      response: endpointResponse,
    }),
    op('delete', '/api/v1/webhooks/{id}', 'Remove a webhook endpoint', 'plugin', {
      scope: 'webhooks:manage',
      response: deleteEndpointResponse,
    }),
    op('post', '/api/v1/webhooks/{id}/test', 'Send a test event', 'plugin', {
      scope: 'webhooks:manage',
      response: testSendResponse,
    }),
    op('get', '/api/v1/webhooks/{id}/attempts', 'Delivery attempts log', 'plugin', {
      scope: 'webhooks:manage',
      query: attemptsQuery,
      response: attemptsResponse,
    }),
    op(
      'post',
      '/api/v1/webhooks/{id}/replay',
      'Replay events or dead letters (dry run lists them)',
      'plugin',
      {
        scope: 'webhooks:manage',
        body: replayRequest,
        response: replayResponse,
      },
    ),
    op(
      'post',
      '/api/v1/webhooks/{id}/enable',
      'Re-enable an endpoint, optionally replaying what it missed',
      'plugin',
      {
        scope: 'webhooks:manage',
        body: enableRequest,
        response: enableResponse,
      },
    ),
    op('get', '/admin/v1/purchases', 'Find purchases', 'admin', { query: adminPurchasesQuery }),
    op('get', '/admin/v1/config/provider', 'AI provider settings (keys masked)', 'admin', {
      query: adminProviderQuery,
      response: adminProviderResponse,
    }),
    op('put', '/admin/v1/config/provider', 'Set AI provider settings (config_updated)', 'admin', {
      body: adminPutProviderRequest,
      response: adminPutProviderResponse,
    }),
    op('put', '/admin/v1/config/{key}', 'Set plugin configuration; instances get config_updated', 'admin', {
      body: putConfigRequest,
      query: putConfigQuery,
    }),
    op('post', '/admin/v1/instances/{id}/disable', 'Disable an instance (plugin_disabled)', 'admin', {
      body: disableInstanceRequest,
    }),
    op('post', '/admin/v1/instances/{id}/enable', 'Enable an instance (plugin_enabled)', 'admin'),
    op(
      'post',
      '/admin/v1/instances/{id}/approve',
      'Let a pending instance in (409 if it is not pending)',
      'admin',
    ),
    op('post', '/admin/v1/credits/adjust', 'Grant or remove credits (credits_updated)', 'admin', {
      body: adjustCreditsRequest(types),
      idempotent: true,
    }),
    op('get', '/admin/v1/packages', 'All packages', 'admin'),
    op('post', '/admin/v1/packages', 'Create a package (package_updated)', 'admin', {
      body: packages.create,
    }),
    op('put', '/admin/v1/packages/{id}', 'Edit a package (package_updated)', 'admin', {
      body: packages.update,
    }),
    op('get', '/admin/v1/webhooks/dead-letters', 'Dead-lettered deliveries', 'admin', {
      query: deadLettersQuery,
    }),
    op('post', '/admin/v1/webhooks/replay', 'Replay dead letters or chosen events', 'admin', {
      body: adminReplayRequest,
    }),
    op('post', '/admin/v1/webhooks/broadcast', 'Send an event to all or chosen instances', 'admin', {
      body: broadcastRequest,
    }),
    op('get', '/admin/v1/webhooks/notifications', 'Operator notifications', 'admin', {
      query: notificationsQuery,
    }),
  ];
}

const errorBody = {
  type: 'object',
  required: ['success', 'error', 'message'],
  properties: { success: { const: false }, error: { type: 'string' }, message: { type: 'string' } },
};

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
const responseSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });

function queryParameters(schema: z.ZodType) {
  const json = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}

export function openApiDocument(config: Pick<Config, 'CREDIT_TYPES' | 'PUBLIC_BASE_URL'>) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of apiOperations(config)) {
    const parameters = [
      ...[...operation.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...(operation.query ? queryParameters(operation.query) : []),
      ...(operation.security === 'plugin'
        ? [
            { name: 'X-Instance-ID', in: 'header', required: true, schema: { type: 'string' } },
            { name: 'User-Agent', in: 'header', required: true, schema: { type: 'string' } },
          ]
        : []),
      ...(operation.idempotent
        ? [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 255 },
            },
          ]
        : []),
    ];
    paths[operation.path] ??= {};
    paths[operation.path]![operation.method] = {
      summary: operation.summary,
      ...(operation.scope ? { description: `Scoped API keys need \`${operation.scope}\`.` } : {}),
      security:
        operation.security === 'plugin'
          ? [{ pluginToken: [] }]
          : operation.security === 'admin'
            ? [{ adminToken: [] }]
            : [],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(operation.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(operation.body) } },
            },
          }
        : {}),
      responses: {
        200: {
          description: 'success (`success: true`)',
          ...(operation.response
            ? { content: { 'application/json': { schema: responseSchema(operation.response) } } }
            : {}),
        },
        default: { description: 'error', content: { 'application/json': { schema: errorBody } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Rakubun credits backend', version: '1' },
    servers: [{ url: config.PUBLIC_BASE_URL }],
    components: {
      securitySchemes: {
        pluginToken: { type: 'http', scheme: 'bearer', description: 'api_token or a scoped API key' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_API_TOKEN' },
      },
    },
    paths,
  };
}
