import { z } from 'zod';
import type { Config } from '../config';
import { webhookCatalogue, webhookEventTypes } from '../webhooks/catalogue';
import type { Route } from './route';

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

/**
 * What this backend POSTs to plugins (OpenAPI 3.1 `webhooks`), one entry per event of the catalogue
 * (src/webhooks/catalogue.ts), with the body every event shares and its own `data`.
 */
function webhookOperations() {
  const header = (name: string, description: string) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: { type: 'string' },
  });
  return Object.fromEntries(
    webhookEventTypes.map((event) => [
      event,
      {
        post: {
          summary: webhookCatalogue[event].summary,
          parameters: [
            header(
              'X-Rakubun-Signature',
              'lowercase hex HMAC-SHA256 of the raw body under the webhook_secret',
            ),
            header('X-Rakubun-Event', event),
            header('X-Instance-ID', 'the receiving instance'),
            header('webhook-id', 'Standard Webhooks: the event id, the same on every retry'),
            header('webhook-timestamp', 'Standard Webhooks: seconds since the epoch'),
            header(
              'webhook-signature',
              'Standard Webhooks: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`',
            ),
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: responseSchema(
                  z.object({
                    id: z.string(),
                    event: z.literal(event),
                    timestamp: z.iso.datetime(),
                    created_at: z.iso.datetime(),
                    instance_id: z.string(),
                    data: webhookCatalogue[event].data,
                  }),
                ),
              },
            },
          },
          responses: {
            '2XX': { description: 'delivered (any 2xx within 30 s); anything else is retried, 410 stops' },
          },
        },
      },
    ]),
  );
}

/** `/api/v1/webhooks/:id` as OpenAPI writes it: `/api/v1/webhooks/{id}`. */
export const documentedPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/**
 * The document, made from the route declarations: the same zod schemas validate the requests, so
 * the two cannot drift. Plugin-facing paths come first, then the operators'.
 */
export function openApiDocument(config: Pick<Config, 'PUBLIC_BASE_URL'>, routes: readonly Route[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  const isAdmin = (operation: Route) => operation.path.startsWith('/admin/');
  const ordered = [...routes.filter((r) => !isAdmin(r)), ...routes.filter(isAdmin)];
  for (const operation of ordered) {
    const path = documentedPath(operation.path);
    const parameters = [
      ...[...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...(operation.query ? queryParameters(operation.query) : []),
      ...(operation.auth === 'plugin'
        ? [
            { name: 'X-Instance-ID', in: 'header', required: true, schema: { type: 'string' } },
            { name: 'User-Agent', in: 'header', required: true, schema: { type: 'string' } },
          ]
        : []),
      ...(operation.auth === 'stripe'
        ? [{ name: 'Stripe-Signature', in: 'header', required: true, schema: { type: 'string' } }]
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
    paths[path] ??= {};
    paths[path]![operation.method] = {
      summary: operation.summary,
      ...(operation.scope ? { description: `Scoped API keys need \`${operation.scope}\`.` } : {}),
      security:
        operation.auth === 'plugin'
          ? [{ pluginToken: [] }]
          : operation.auth === 'admin'
            ? [{ adminToken: [] }]
            : operation.auth === 'metrics'
              ? [{ metricsToken: [] }, { adminToken: [] }]
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
        [operation.status ?? 200]: {
          description: 'success (`success: true`)',
          ...(operation.response
            ? { content: { 'application/json': { schema: responseSchema(operation.response) } } }
            : {}),
        },
        ...Object.fromEntries(
          Object.entries(operation.answers ?? {}).map(([status, answer]) => [
            status,
            {
              description: answer.description,
              content: { 'application/json': { schema: responseSchema(answer.schema) } },
            },
          ]),
        ),
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
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'ADMIN_API_TOKEN or an operator token of ADMIN_API_TOKENS',
        },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' },
      },
    },
    paths,
    webhooks: webhookOperations(),
  };
}
