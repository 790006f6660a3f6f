import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestApi } from '../helpers/env';
import { asPlugin, type CallResult, call, issuedSecrets, registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';

const adminToken = () => process.env.ADMIN_API_TOKEN!;

function assertError(result: CallResult, status: number, code: string) {
  assert.equal(result.status, status, JSON.stringify(result.body));
  assert.equal(result.body.success, false);
  assert.equal(result.body.error, code);
  assert.equal(typeof result.body.message, 'string');
}

describe('plugin tenancy', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.stop());

  describe('registration', () => {
    it('returns 256-bit credentials once, and 409 already_registered for the same instance_id', async () => {
      const instanceId = `site-${randomUUID()}`;
      const body = {
        instance_id: instanceId,
        site_url: 'https://blog.example.jp',
        admin_email: 'a@example.jp',
      };
      const first = await call(api.url, 'POST', '/api/v1/plugins/register', { body });
      assert.equal(first.status, 200);
      assert.equal(first.body.success, true);
      assert.equal(first.body.instance_id, instanceId);
      assert.equal(first.body.status, 'registered');
      issuedSecrets.push(first.body.api_token, first.body.webhook_secret);
      // 32 random bytes: 43 base64url characters after the prefix, 44 base64 ones for the secret.
      assert.match(first.body.api_token, /^rk_[A-Za-z0-9_-]{43}$/);
      assert.match(first.body.webhook_secret, /^whsec_[A-Za-z0-9+/]{43}=$/);

      const second = await call(api.url, 'POST', '/api/v1/plugins/register', { body });
      assertError(second, 409, 'already_registered');
      assert.equal(second.body.api_token, undefined);
      assert.equal(second.body.webhook_secret, undefined);
    });

    it('names every missing field in one 400 invalid_request', async () => {
      const result = await call(api.url, 'POST', '/api/v1/plugins/register', { body: { site_url: 'nope' } });
      assertError(result, 400, 'invalid_request');
      assert.match(result.body.message, /Missing required fields: instance_id, admin_email/);
      assert.match(result.body.message, /site_url/);
    });
  });

  describe('failed authentications', () => {
    it('past the limit of failures for an instance from one address, that address gets 429 for the rest of the minute', async () => {
      const limited = await startTestApi({ AUTH_FAILURE_LIMIT_PER_MINUTE: '5' });
      try {
        const target = await registerPlugin(limited.url);
        const bystander = await registerPlugin(limited.url);
        const path = `/api/v1/instances/${target.instance_id}`;
        const guess = asPlugin(limited.url, { ...target, api_token: 'rk_guess_guess_guess_guess' });
        for (let i = 0; i < 5; i += 1) assertError(await guess('GET', path), 401, 'unauthorized');
        const refused = await guess('GET', path);
        assertError(refused, 429, 'rate_limited');
        assert.ok(Number(refused.headers.get('Retry-After')) >= 1);
        // The token is not even checked now: the right one waits too, for this instance only.
        assertError(await asPlugin(limited.url, target)('GET', path), 429, 'rate_limited');
        const other = await asPlugin(limited.url, bystander)(
          'GET',
          `/api/v1/instances/${bystander.instance_id}`,
        );
        assert.equal(other.status, 200);
      } finally {
        await limited.stop();
      }
    });
  });

  describe('authentication', () => {
    it('401 without a token, with a wrong token, or with another instance id', async () => {
      const a = await registerPlugin(api.url);
      const b = await registerPlugin(api.url);
      const path = `/api/v1/instances/${a.instance_id}`;
      assertError(await call(api.url, 'GET', path, { instanceId: a.instance_id }), 401, 'unauthorized');
      assertError(await call(api.url, 'GET', path, { token: a.api_token }), 401, 'unauthorized');
      assertError(
        await call(api.url, 'GET', path, {
          token: `${a.api_token.slice(0, -1)}x`,
          instanceId: a.instance_id,
        }),
        401,
        'unauthorized',
      );
      assertError(
        await call(api.url, 'GET', path, { token: b.api_token, instanceId: a.instance_id }),
        401,
        'unauthorized',
      );
      assertError(
        await call(api.url, 'GET', path, { token: a.api_token, instanceId: 'never-registered' }),
        401,
        'unauthorized',
      );
      const ok = await asPlugin(api.url, a)('GET', path);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.instance.instance_id, a.instance_id);
      assert.equal(JSON.stringify(ok.body).includes('hash'), false, 'no credential material in the instance');
    });

    it('403 forbidden for a User-Agent that is not an allowed plugin', async () => {
      const a = await registerPlugin(api.url);
      const plugin = asPlugin(api.url, a);
      // wp_remote_post without a User-Agent of its own sends WordPress's default: allowed by default.
      const wordpress = await plugin('GET', `/api/v1/instances/${a.instance_id}`, {
        userAgent: 'WordPress/6.4.2; https://example.com',
      });
      assert.equal(wordpress.status, 200, JSON.stringify(wordpress.body));
      assert.equal(wordpress.body.success, true);
      assertError(
        await plugin('GET', `/api/v1/instances/${a.instance_id}`, { userAgent: 'curl/8.0' }),
        403,
        'forbidden',
      );
      assertError(
        await plugin('GET', `/api/v1/instances/${a.instance_id}`, { userAgent: null }),
        403,
        'forbidden',
      );
    });

    it('a plugin never sees another instance: 404', async () => {
      const a = await registerPlugin(api.url);
      const b = await registerPlugin(api.url);
      const plugin = asPlugin(api.url, a);
      assertError(await plugin('GET', `/api/v1/instances/${b.instance_id}`), 404, 'not_found');
      assertError(
        await plugin('PUT', `/api/v1/instances/${b.instance_id}`, { body: { admin_email: 'x@y.z' } }),
        404,
        'not_found',
      );
    });

    it('disabled instances get 403 instance_disabled until an operator enables them', async () => {
      const a = await registerPlugin(api.url);
      const plugin = asPlugin(api.url, a);
      const admin = { token: adminToken(), userAgent: 'ops' };
      assertError(
        await call(api.url, 'POST', `/admin/v1/instances/${a.instance_id}/disable`, {
          body: { reason: 'x' },
        }),
        401,
        'unauthorized',
      );
      const disabled = await call(api.url, 'POST', `/admin/v1/instances/${a.instance_id}/disable`, {
        ...admin,
        body: { reason: 'payment overdue' },
      });
      assert.equal(disabled.status, 200);
      assert.equal(disabled.body.instance.status, 'disabled');
      const refused = await plugin('GET', `/api/v1/instances/${a.instance_id}`);
      assertError(refused, 403, 'instance_disabled');
      assert.match(refused.body.message, /payment overdue/);
      const enabled = await call(api.url, 'POST', `/admin/v1/instances/${a.instance_id}/enable`, admin);
      assert.equal(enabled.status, 200);
      assert.equal((await plugin('GET', `/api/v1/instances/${a.instance_id}`)).status, 200);
    });

    it('PUT /instances/:id updates what it is given and never returns secrets', async () => {
      const a = await registerPlugin(api.url);
      const plugin = asPlugin(api.url, a);
      const updated = await plugin('PUT', `/api/v1/instances/${a.instance_id}`, {
        body: { plugin_version: '2.1.0', site_url: 'https://moved.example.com' },
      });
      assert.equal(updated.status, 200);
      assert.equal(updated.body.instance.plugin_version, '2.1.0');
      assert.equal(updated.body.instance.site_url, 'https://moved.example.com');
      assert.equal(updated.body.instance.admin_email, 'admin@example.com');
      assert.equal(JSON.stringify(updated.body).includes(a.api_token), false);
      assertError(
        await plugin('PUT', `/api/v1/instances/${a.instance_id}`, { body: { site_url: 'ftp://x' } }),
        400,
        'invalid_request',
      );
    });
  });

  describe('scoped API keys', () => {
    it('are shown once, listed masked, enforce their scopes, and stop working when revoked', async () => {
      const a = await registerPlugin(api.url);
      const plugin = asPlugin(api.url, a);
      await call(api.url, 'PUT', '/admin/v1/config/features', {
        token: adminToken(),
        body: { model: 'gpt-4o' },
      });

      const created = await plugin('POST', '/api/v1/api-keys', {
        body: { name: 'reader', scopes: ['config:read'] },
      });
      assert.equal(created.status, 201);
      const key: string = created.body.api_key.key;
      issuedSecrets.push(key);
      assert.match(key, /^rkk_/);
      assertResponseMatches('POST', '/api/v1/api-keys', created.body);

      const listed = await plugin('GET', '/api/v1/api-keys');
      assert.equal(listed.body.api_keys.length, 1);
      assertResponseMatches('GET', '/api/v1/api-keys', listed.body);
      assert.equal(listed.body.api_keys[0].key.includes(key.slice(20)), false, 'listing is masked');

      const asKey = asPlugin(api.url, { ...a, api_token: key });
      const read = await asKey('GET', '/api/v1/config/features');
      assert.equal(read.status, 200);
      assert.deepEqual(read.body.config, { model: 'gpt-4o' });
      assertResponseMatches('GET', '/api/v1/config/{key}', read.body);
      // No scope for key management, nor for anything else.
      assertError(
        await asKey('POST', '/api/v1/api-keys', { body: { name: 'x', scopes: ['config:read'] } }),
        403,
        'forbidden',
      );
      assertError(await asKey('GET', `/api/v1/instances/${a.instance_id}`), 403, 'forbidden');

      const noScope = await plugin('POST', '/api/v1/api-keys', {
        body: { name: 'writer', scopes: ['credits:write'] },
      });
      issuedSecrets.push(noScope.body.api_key.key);
      assertError(
        await asPlugin(api.url, { ...a, api_token: noScope.body.api_key.key })(
          'GET',
          '/api/v1/config/features',
        ),
        403,
        'forbidden',
      );

      const revoked = await plugin('DELETE', `/api/v1/api-keys/${created.body.api_key.id}`);
      assert.equal(revoked.status, 200);
      assertResponseMatches('DELETE', '/api/v1/api-keys/{keyId}', revoked.body);
      assertError(await asKey('GET', '/api/v1/config/features'), 401, 'unauthorized');
    });

    it("one instance's key does not open another instance", async () => {
      const a = await registerPlugin(api.url);
      const b = await registerPlugin(api.url);
      const created = await asPlugin(api.url, a)('POST', '/api/v1/api-keys', {
        body: { name: 'k', scopes: ['config:read'] },
      });
      issuedSecrets.push(created.body.api_key.key);
      const stolen = asPlugin(api.url, { ...b, api_token: created.body.api_key.key });
      assertError(await stolen('GET', '/api/v1/config/features'), 401, 'unauthorized');
      assertError(
        await asPlugin(api.url, b)('DELETE', `/api/v1/api-keys/${created.body.api_key.id}`),
        404,
        'not_found',
      );
    });
  });

  describe('credential rotation', () => {
    it('another API process takes the new token at once, though it cached the instance', async () => {
      // A second app with a connection of its own: its instance cache is not the first app's.
      const other = await startTestApi({ MONGODB_URL: api.config.MONGODB_URL });
      try {
        const a = await registerPlugin(api.url);
        const path = `/api/v1/instances/${a.instance_id}`;
        assert.equal((await asPlugin(other.url, a)('GET', path)).status, 200); // now cached there
        const rotated = await asPlugin(api.url, a)('POST', '/api/v1/plugins/rotate-credentials', {
          body: { rotate: ['api_token'] },
        });
        issuedSecrets.push(rotated.body.api_token);
        const fresh = asPlugin(other.url, { ...a, api_token: rotated.body.api_token });
        assert.equal((await fresh('GET', path)).status, 200);
      } finally {
        await other.stop();
      }
    });

    it('during the grace period the old token may only read: no rotation, keys, endpoints or spending', async () => {
      const a = await registerPlugin(api.url);
      const rotated = await asPlugin(api.url, a)('POST', '/api/v1/plugins/rotate-credentials', {
        body: { rotate: ['api_token'] },
      });
      assert.equal(rotated.status, 200);
      issuedSecrets.push(rotated.body.api_token);
      const old = asPlugin(api.url, a);
      assert.equal((await old('GET', `/api/v1/instances/${a.instance_id}`)).status, 200, 'reads still work');
      const writes: Array<[string, string, unknown]> = [
        ['POST', '/api/v1/plugins/rotate-credentials', { rotate: ['api_token', 'webhook_secret'] }],
        ['POST', '/api/v1/api-keys', { name: 'leaked', scopes: ['credits:read'] }],
        ['POST', '/api/v1/webhooks', { url: 'https://example.com/hook' }],
        [
          'POST',
          '/api/v1/users/deduct-credits',
          { user_id: 1, user_email: 'a@example.jp', credit_type: 'article' },
        ],
      ];
      for (const [method, path, body] of writes) {
        assertError(await old(method, path, { body }), 403, 'forbidden');
      }
      // The owner's new token still does all of it; the refused rotation changed nothing.
      const fresh = asPlugin(api.url, { ...a, api_token: rotated.body.api_token });
      assert.equal((await fresh('GET', `/api/v1/instances/${a.instance_id}`)).status, 200);
      const again = await fresh('POST', '/api/v1/plugins/rotate-credentials', {
        body: { rotate: ['api_token'] },
      });
      assert.equal(again.status, 200);
      issuedSecrets.push(again.body.api_token);
      // Rotating again ends the first grace at once: the first token is no longer even read-only.
      assertError(await old('GET', `/api/v1/instances/${a.instance_id}`), 401, 'unauthorized');
    });

    it('issues new credentials; the old token works during the grace period only', async () => {
      const a = await registerPlugin(api.url);
      const rotated = await asPlugin(api.url, a)('POST', '/api/v1/plugins/rotate-credentials', {
        body: { rotate: ['api_token', 'webhook_secret'] },
      });
      assert.equal(rotated.status, 200);
      issuedSecrets.push(rotated.body.api_token, rotated.body.webhook_secret);
      assert.notEqual(rotated.body.api_token, a.api_token);
      assert.notEqual(rotated.body.webhook_secret, a.webhook_secret);
      const path = `/api/v1/instances/${a.instance_id}`;
      assert.equal(
        (await asPlugin(api.url, { ...a, api_token: rotated.body.api_token })('GET', path)).status,
        200,
      );
      assert.equal((await asPlugin(api.url, a)('GET', path)).status, 200, 'old token in grace');

      const strict = await startTestApi({ TOKEN_ROTATION_GRACE_SECONDS: '0' });
      try {
        const b = await registerPlugin(strict.url);
        const next = await asPlugin(strict.url, b)('POST', '/api/v1/plugins/rotate-credentials', {
          body: { rotate: ['api_token'] },
        });
        issuedSecrets.push(next.body.api_token);
        assert.equal(next.body.webhook_secret, undefined);
        assertError(
          await asPlugin(strict.url, b)('GET', `/api/v1/instances/${b.instance_id}`),
          401,
          'unauthorized',
        );
        const fresh = asPlugin(strict.url, { ...b, api_token: next.body.api_token });
        assert.equal((await fresh('GET', `/api/v1/instances/${b.instance_id}`)).status, 200);
      } finally {
        await strict.stop();
      }
    });
  });
});
