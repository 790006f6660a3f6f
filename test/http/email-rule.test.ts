import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestApi } from '../helpers/env';
import { asPlugin, call, registerPlugin } from '../helpers/plugin-client';

// Issue 10, finding 7: emails the OpenAPI `email` format refuses were accepted. Every email field
// now has one rule, and the OpenAPI document states that same rule for each of them.

const refused = [
  `${'x'.repeat(65)}@example.com`, // more than 64 characters before the @
  `someone@${'b'.repeat(64)}.com`, // a host label longer than 63
  `${'x'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(63)}.com`, // 260 in all: over 254
  '.dot@example.com',
  'two..dots@example.com',
  'dash@-host.example.com',
  'no-at-sign.example.com',
  'someone@localhost',
];
const accepted = [
  'editor+ai@example.co.jp',
  "o'neil@example.com",
  'a!b#c@example.com',
  'x@xn--bcher-kva.example',
];

describe('one email rule', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.stop());

  const register = (admin_email: string) =>
    call(api.url, 'POST', '/api/v1/plugins/register', {
      body: { instance_id: randomUUID(), site_url: 'https://blog.example.jp', admin_email },
    });

  it('refuses at registration what RFC 5321 refuses, naming the field, and takes what WordPress users have', async () => {
    for (const email of refused) {
      const result = await register(email);
      assert.equal(result.status, 400, `${email}: ${result.status} ${JSON.stringify(result.body)}`);
      assert.equal(result.body.error, 'invalid_request');
      assert.match(JSON.stringify(result.body), /admin_email/);
    }
    for (const email of accepted) {
      const result = await register(email);
      assert.equal(result.status, 200, `${email}: ${JSON.stringify(result.body)}`);
    }
  });

  it('is the same rule on a deduction and in the admin purchase search', async () => {
    const plugin = await registerPlugin(api.url);
    const deduct = (user_email: string) =>
      asPlugin(api.url, plugin)('POST', '/api/v1/users/deduct-credits', {
        body: { user_id: 7, user_email, credit_type: 'article', amount: 1 },
      });
    const tooLong = await deduct(refused[0]!);
    assert.equal(tooLong.status, 400, JSON.stringify(tooLong.body));
    assert.match(JSON.stringify(tooLong.body), /user_email/);
    const search = await call(
      api.url,
      'GET',
      `/admin/v1/purchases?user_email=${encodeURIComponent(refused[1]!)}`,
      {
        token: api.config.ADMIN_API_TOKEN!,
      },
    );
    assert.equal(search.status, 400, JSON.stringify(search.body));
  });

  it('is stated once in the OpenAPI document: every email field has format email and the same pattern', async () => {
    const document = await (await fetch(`${api.url}/openapi.json`)).json();
    const found: Array<{ where: string; schema: { format?: string; pattern?: string; maxLength?: number } }> =
      [];
    const visit = (node: unknown, where: string) => {
      if (!node || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
        if (
          /email/.test(key) &&
          value &&
          typeof value === 'object' &&
          (value as { type?: string }).type === 'string'
        )
          found.push({ where: `${where}.${key}`, schema: value as never });
        visit(value, `${where}.${key}`);
      }
    };
    for (const [path, operations] of Object.entries(
      document.paths as Record<string, Record<string, unknown>>,
    )) {
      for (const [method, operation] of Object.entries(operations)) {
        const op = operation as {
          requestBody?: unknown;
          parameters?: Array<{ name: string; schema: unknown }>;
        };
        visit(op.requestBody, `${method} ${path} body`);
        for (const parameter of op.parameters ?? []) {
          if (/email/.test(parameter.name))
            found.push({ where: `${method} ${path} ?${parameter.name}`, schema: parameter.schema as never });
        }
      }
    }
    assert.ok(found.length >= 5, `email fields found: ${found.map((f) => f.where).join(', ')}`);
    const patterns = new Set(found.map((f) => f.schema.pattern));
    assert.equal(patterns.size, 1, `patterns: ${[...patterns].join(' | ')}`);
    for (const { where, schema } of found) {
      assert.equal(schema.format, 'email', where);
      assert.equal(schema.maxLength, 254, where);
    }
    const rule = new RegExp([...patterns][0]!);
    for (const email of refused.filter((e) => e.length <= 254)) assert.ok(!rule.test(email), email);
    for (const email of accepted) assert.ok(rule.test(email), email);
  });
});
