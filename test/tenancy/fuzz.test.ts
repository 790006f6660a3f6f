import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { z } from 'zod';
import { disableInstanceRequest } from '../../src/http/routes/admin-instances';
import { createApiKeyRequest } from '../../src/http/routes/api-keys';
import { updateInstanceRequest } from '../../src/http/routes/instances';
import { registerRequest, rotateRequest } from '../../src/http/routes/plugins';
import { collectionNames } from '../../src/mongo/collections';
import { stack, startTestApi } from '../helpers/env';
import { type CallOptions, call, registerPlugin } from '../helpers/plugin-client';

// Random bodies, wrong types, huge strings and broken JSON at every tenancy route: only 4xx in the
// contract's error shape may come back, and nothing may be written.

const hugeString = fc.string({ minLength: 5_000, maxLength: 20_000 });
const wrongTypes = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer()),
  hugeString,
);
const brokenJson = fc
  .string({ minLength: 1, maxLength: 200 })
  .filter((text) => {
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  })
  .map((text) => ({ raw: text }));

function bodies(fields: string[]) {
  const shaped = fc.record(Object.fromEntries(fields.map((field) => [field, wrongTypes])), {
    requiredKeys: [],
  });
  return fc.oneof(
    fc.anything(),
    shaped,
    fc.array(fc.anything()),
    brokenJson,
    hugeString.map((s) => ({ raw: s })),
  );
}

/** Bodies that happen to be valid would rightly write; they are not the point here. */
function invalidFor(schema: z.ZodType | undefined, body: unknown): boolean {
  if (!schema || (typeof body === 'object' && body !== null && 'raw' in body)) return true;
  return typeof body !== 'object' || body === null || Array.isArray(body) || !schema.safeParse(body).success;
}

async function snapshot() {
  const { db } = await stack();
  const counts: Record<string, number> = {};
  for (const name of [
    collectionNames.instances,
    collectionNames.apiKeys,
    collectionNames.credentialRotations,
    collectionNames.pluginConfig,
  ]) {
    counts[name] = await db.collection(name).countDocuments({});
  }
  return counts;
}

describe('tenancy routes under fuzzing', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.stop());

  it('answer only 4xx in the error shape, and write nothing', async function () {
    this.timeout(240_000);
    const plugin = await registerPlugin(api.url);
    const { db } = await stack();
    const instanceBefore = await db
      .collection(collectionNames.instances)
      .findOne({ instance_id: plugin.instance_id });
    const before = await snapshot();
    const auth: CallOptions = { token: plugin.api_token, instanceId: plugin.instance_id };
    const admin: CallOptions = { token: process.env.ADMIN_API_TOKEN!, userAgent: 'ops' };

    const routes: Array<{
      method: string;
      path: (s: string) => string;
      options: CallOptions;
      schema?: z.ZodType;
      fields: string[];
    }> = [
      {
        method: 'POST',
        path: () => '/api/v1/plugins/register',
        options: {},
        schema: registerRequest,
        fields: Object.keys(registerRequest.shape),
      },
      {
        method: 'POST',
        path: () => '/api/v1/plugins/rotate-credentials',
        options: auth,
        schema: rotateRequest,
        fields: ['rotate'],
      },
      {
        method: 'PUT',
        path: () => `/api/v1/instances/${plugin.instance_id}`,
        options: auth,
        schema: updateInstanceRequest,
        fields: Object.keys(updateInstanceRequest.shape),
      },
      {
        method: 'PUT',
        path: (s) => `/api/v1/instances/${encodeURIComponent(s)}`,
        options: auth,
        fields: ['site_url'],
      },
      {
        method: 'POST',
        path: () => '/api/v1/api-keys',
        options: auth,
        schema: createApiKeyRequest,
        fields: ['name', 'scopes', 'expires_at'],
      },
      {
        method: 'DELETE',
        path: (s) => `/api/v1/api-keys/${encodeURIComponent(s)}`,
        options: auth,
        fields: [],
      },
      {
        method: 'POST',
        path: (s) => `/admin/v1/instances/${encodeURIComponent(s)}/disable`,
        options: admin,
        schema: disableInstanceRequest,
        fields: ['reason'],
      },
      {
        method: 'POST',
        path: () => `/admin/v1/instances/${plugin.instance_id}/disable`,
        options: admin,
        schema: disableInstanceRequest,
        fields: ['reason'],
      },
      { method: 'PUT', path: () => '/admin/v1/config/openai', options: admin, fields: ['model'] },
      { method: 'GET', path: (s) => `/api/v1/config/${encodeURIComponent(s)}`, options: auth, fields: [] },
    ];

    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(
          bodies(route.fields),
          fc.string({ minLength: 1, maxLength: 40 }),
          async (body, segment) => {
            // PUT config accepts any object: only non-objects and broken JSON are errors there.
            const isObject =
              typeof body === 'object' && body !== null && !Array.isArray(body) && !('raw' in body);
            fc.pre(invalidFor(route.schema, body));
            fc.pre(!(route.path('x') === '/admin/v1/config/openai' && isObject));
            const raw =
              typeof body === 'object' && body !== null && 'raw' in body
                ? (body as { raw: string }).raw
                : undefined;
            const result = await call(api.url, route.method, route.path(segment), {
              ...route.options,
              body:
                route.method === 'GET' || route.method === 'DELETE'
                  ? undefined
                  : (raw ?? JSON.stringify(body ?? null)),
            });
            assert.ok(
              result.status >= 400 && result.status < 500,
              `${route.method} ${route.path(segment)} → ${result.status}`,
            );
            assert.equal(result.body.success, false);
            assert.match(result.body.error, /^[a-z_]+$/);
            assert.equal(typeof result.body.message, 'string');
            assert.doesNotMatch(result.body.message, /at .+\.ts:\d+/, 'no stack trace');
          },
        ),
        { numRuns: 40 },
      );
    }

    assert.deepEqual(await snapshot(), before);
    const instanceAfter = await db
      .collection(collectionNames.instances)
      .findOne({ instance_id: plugin.instance_id });
    assert.deepEqual(instanceAfter, instanceBefore);
  });
});
