import assert from 'node:assert/strict';
import { appRouters } from '../../src/http/app';
import { documentedPath, openApiDocument } from '../../src/http/openapi';
import { createLogger } from '../../src/logger';
import { assembleServices } from '../../src/services';
import { stack, startTestApi, testConfig } from '../helpers/env';
import { asPlugin, registerPlugin } from '../helpers/plugin-client';
import { declaredRoutes } from '../helpers/routes';

interface DocumentedOperation {
  parameters?: Array<{ name: string; in: string; required: boolean }>;
  security: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
type Paths = Record<string, Record<string, DocumentedOperation>>;

const document = () => openApiDocument(testConfig(), declaredRoutes()) as unknown as { paths: Paths };
const operations = () =>
  Object.entries(document().paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
  );

async function servedLayers() {
  const { db, temporal } = await stack();
  const routers = appRouters(
    assembleServices({
      config: testConfig(),
      logger: createLogger({ level: 'silent', name: 't' }),
      db,
      temporal,
      stripe: undefined,
    }),
  );
  return routers.flatMap((router) => router.stack);
}

describe('OpenAPI document', () => {
  it('documents exactly the routes the app serves, in the order they are declared', async () => {
    const served = (await servedLayers()).flatMap((layer) =>
      layer.methods
        .filter((method) => method !== 'HEAD')
        .map((method) => `${method} ${documentedPath(String(layer.path))}`),
    );
    const declared = declaredRoutes().map(
      (route) => `${route.method.toUpperCase()} ${documentedPath(route.path)}`,
    );
    assert.deepEqual(served, declared);
    const documented = operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    assert.deepEqual([...documented].sort(), [...declared].sort());
    assert.equal(new Set(declared).size, declared.length, 'a route is declared twice');
  });

  it('no route is shadowed by one served before it (fixed /config paths come before /config/:key)', async () => {
    const layers = await servedLayers();
    for (const route of declaredRoutes()) {
      const method = route.method.toUpperCase();
      const request = route.path.replace(/:(\w+)/g, 'some-$1');
      const first = layers.find((layer) => layer.methods.includes(method) && layer.match(request));
      assert.equal(first?.path, route.path, `${method} ${request} is answered by ${first?.path}`);
    }
  });

  it('documents every path parameter and the headers its authentication needs', () => {
    for (const { path, method, operation } of operations()) {
      const named = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name);
      const inPath = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path');
      assert.deepEqual(
        inPath.map((parameter) => parameter.name),
        named,
        `${method} ${path}`,
      );
      assert.ok(
        inPath.every((parameter) => parameter.required),
        `${method} ${path}: path parameters are required`,
      );
      const headers = (operation.parameters ?? []).filter((parameter) => parameter.in === 'header');
      if (path.startsWith('/admin/v1')) assert.deepEqual(operation.security, [{ adminToken: [] }], path);
      if (JSON.stringify(operation.security) === JSON.stringify([{ pluginToken: [] }])) {
        assert.ok(
          headers.some((header) => header.name === 'X-Instance-ID' && header.required),
          `${method} ${path}: X-Instance-ID`,
        );
      }
    }
  });

  it('every /api/v1 operation documents its success body', () => {
    const undocumented = operations()
      .filter(({ path }) => path.startsWith('/api/v1') || path === '/health')
      .filter(
        ({ operation }) =>
          !['200', '201', '202'].some(
            (status) => operation.responses[status]?.content?.['application/json']?.schema,
          ),
      )
      .map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    assert.deepEqual(undocumented, []);
    for (const { path, method, operation } of operations()) {
      assert.ok(operation.responses.default, `${method} ${path} documents its error body`);
    }
  });

  it('documents the status a route answers on success: POST /api-keys answers 201, not 200', async () => {
    const api = await startTestApi();
    try {
      const plugin = await registerPlugin(api.url);
      const created = await asPlugin(api.url, plugin)('POST', '/api/v1/api-keys', {
        body: { name: 'documented', scopes: ['credits:read'] },
      });
      assert.equal(created.status, 201);
      const documented = document().paths['/api/v1/api-keys']!.post!.responses;
      assert.ok(documented['201']?.content?.['application/json']?.schema, '201 documented with its body');
      assert.equal(documented['200'], undefined, 'a 200 it never answers');
    } finally {
      await api.stop();
    }
  });

  it('documents the 201 and 202 answers: endpoints and packages created, broadcasts accepted, payments processing', () => {
    const responses = (path: string, method: string) => document().paths[path]![method]!.responses;
    assert.ok(responses('/api/v1/webhooks', 'post')['201']?.content, 'POST /api/v1/webhooks 201');
    assert.ok(responses('/admin/v1/packages', 'post')['201'], 'POST /admin/v1/packages 201');
    assert.ok(
      responses('/admin/v1/webhooks/broadcast', 'post')['202'],
      'POST /admin/v1/webhooks/broadcast 202',
    );
    for (const path of ['/api/v1/checkout/verify', '/api/v1/payments/confirm']) {
      assert.ok(responses(path, 'post')['200']?.content, `${path} 200`);
      const processing = responses(path, 'post')['202']?.content?.['application/json']?.schema as
        | { properties?: Record<string, unknown> }
        | undefined;
      assert.ok(processing?.properties?.status, `${path} 202 (still processing) with its body`);
    }
  });

  it('is served at /openapi.json with request bodies generated from the validation schemas', async () => {
    const api = await startTestApi();
    try {
      const response = await fetch(`${api.url}/openapi.json`);
      assert.equal(response.status, 200);
      const document = await response.json();
      assert.equal(document.openapi, '3.1.0');
      const register =
        document.paths['/api/v1/plugins/register'].post.requestBody.content['application/json'].schema;
      assert.deepEqual([...register.required].sort(), ['admin_email', 'instance_id', 'site_url']);
      const deduct = document.paths['/api/v1/users/deduct-credits'].post;
      assert.deepEqual(deduct.requestBody.content['application/json'].schema.properties.credit_type.enum, [
        'article',
        'image',
        'rewrite',
      ]);
      assert.ok(
        deduct.parameters.some((parameter: { name: string }) => parameter.name === 'Idempotency-Key'),
      );
    } finally {
      await api.stop();
    }
  });
});
