import assert from 'node:assert/strict';
import { appRouters } from '../../src/http/app';
import { apiOperations } from '../../src/http/openapi';
import { createLogger } from '../../src/logger';
import { createSecretBox } from '../../src/tenancy/secret-box';
import { stack, startTestApi, testConfig } from '../helpers/env';

describe('OpenAPI document', () => {
  it('lists exactly the routes the app serves', async () => {
    const { db, temporal } = await stack();
    const config = testConfig();
    const routers = appRouters({
      config,
      logger: createLogger({ level: 'silent', name: 't' }),
      db,
      temporal,
      secretBox: createSecretBox(undefined),
      stripe: undefined,
    });
    const served = routers
      .flatMap((router) => router.stack)
      .flatMap((layer) =>
        layer.methods
          .filter((method) => method !== 'HEAD')
          .map((method) => `${method} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`),
      )
      .sort();
    const documented = apiOperations(config)
      .map((operation) => `${operation.method.toUpperCase()} ${operation.path}`)
      .sort();
    assert.deepEqual(documented, served);
  });

  it('every /api/v1 operation documents its success body', () => {
    const undocumented = apiOperations(testConfig())
      .filter((operation) => operation.path.startsWith('/api/v1') || operation.path === '/health')
      .filter((operation) => !operation.response)
      .map((operation) => `${operation.method.toUpperCase()} ${operation.path}`);
    assert.deepEqual(undocumented, []);
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
