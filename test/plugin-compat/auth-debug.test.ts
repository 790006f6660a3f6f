import assert from 'node:assert/strict';
import { stack, startTestApi } from '../helpers/env';
import { adminToken } from '../helpers/http';
import { asPlugin, type CallResult, call, issuedSecrets, registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';

// GET /api/v1/auth/debug, the original dashboard's aid for plugin authors: called with the headers
// every call of includes/class-rakubun-ai-external-api.php sends (Authorization: Bearer,
// X-Instance-ID, User-Agent: Rakubun-WordPress-Plugin/<version>), or with WordPress's default
// User-Agent as wp_remote_post sends it.

const userAgent = 'Rakubun-WordPress-Plugin/1.0.0';
const path = '/api/v1/auth/debug';

/** No part of the token may come back: no 8-character piece of it appears in the answer. */
function assertNoTokenIn(result: CallResult, token: string) {
  const text = JSON.stringify(result.body);
  for (let i = 0; i + 8 <= token.length; i += 1) {
    assert.equal(text.includes(token.slice(i, i + 8)), false, `token piece at ${i} echoed`);
  }
}

describe('plugin compat: GET /auth/debug', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.stop());

  it('is public: without headers it says what is missing', async () => {
    const result = await call(api.url, 'GET', path, { userAgent });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assertResponseMatches('GET', path, result.body);
    assert.equal(result.body.success, true);
    assert.deepEqual(result.body.headers, {
      authorization: 'missing',
      x_instance_id: null,
      user_agent: userAgent,
    });
    assert.equal(result.body.user_agent_allowed, true);
    assert.equal(result.body.token_valid, false);
    assert.equal(result.body.instance_id_matches, false);
    assert.equal(result.body.instance_status, null);
    assert.equal(result.body.authenticated, false);
    assert.equal(result.headers.get('cache-control'), 'no-store');
  });

  it('confirms valid plugin headers, and never echoes the token', async () => {
    const plugin = await registerPlugin(api.url);
    const result = await asPlugin(api.url, plugin)('GET', path, { userAgent });
    assert.equal(result.status, 200);
    assertResponseMatches('GET', path, result.body);
    assert.deepEqual(result.body.headers, {
      authorization: 'present',
      x_instance_id: plugin.instance_id,
      user_agent: userAgent,
    });
    assert.equal(result.body.bearer_format, true);
    assert.equal(result.body.token_valid, true);
    assert.equal(result.body.instance_id_matches, true);
    assert.equal(result.body.instance_status, 'active');
    assert.equal(result.body.authenticated, true);
    assert.deepEqual(result.body.problems, []);
    assertNoTokenIn(result, plugin.api_token);

    // The token pasted into another header by mistake is not sent back either.
    const pasted = await call(api.url, 'GET', path, {
      token: plugin.api_token,
      instanceId: plugin.api_token,
      userAgent: `${userAgent} ${plugin.api_token}`,
    });
    assertNoTokenIn(pasted, plugin.api_token);
    assert.equal(pasted.body.headers.x_instance_id, '[redacted]');
  });

  it("WordPress's default User-Agent is allowed, curl's is not", async () => {
    const plugin = await registerPlugin(api.url);
    const wordpress = await asPlugin(api.url, plugin)('GET', path, {
      userAgent: 'WordPress/6.4.2; https://example.com',
    });
    assert.equal(wordpress.body.user_agent_allowed, true);
    assert.equal(wordpress.body.authenticated, true);
    const curl = await asPlugin(api.url, plugin)('GET', path, { userAgent: 'curl/8.0' });
    assert.equal(curl.status, 200);
    assert.equal(curl.body.user_agent_allowed, false);
    assert.equal(curl.body.token_valid, true);
    assert.equal(curl.body.authenticated, false);
  });

  it('says nothing about an instance id unless the token is valid', async () => {
    const a = await registerPlugin(api.url);
    const b = await registerPlugin(api.url);
    const wrongToken = `rk_${'A'.repeat(43)}`;
    const existing = await call(api.url, 'GET', path, {
      token: wrongToken,
      instanceId: a.instance_id,
      userAgent,
    });
    const unknown = await call(api.url, 'GET', path, {
      token: wrongToken,
      instanceId: 'never-registered',
      userAgent,
    });
    const strip = (body: { headers: Record<string, unknown> }) => ({
      ...body,
      headers: { ...body.headers, x_instance_id: 'x' },
    });
    assert.deepEqual(strip(existing.body), strip(unknown.body));
    assert.equal(existing.body.token_valid, false);
    assert.equal(existing.body.instance_status, null);

    // A valid token with another instance's id: valid, but not for that id.
    const crossed = await call(api.url, 'GET', path, {
      token: a.api_token,
      instanceId: b.instance_id,
      userAgent,
    });
    assert.equal(crossed.body.token_valid, true);
    assert.equal(crossed.body.instance_id_matches, false);
    assert.equal(crossed.body.authenticated, false);
    const crossedUnknown = await call(api.url, 'GET', path, {
      token: a.api_token,
      instanceId: 'never-registered',
      userAgent,
    });
    assert.deepEqual(strip(crossed.body), strip(crossedUnknown.body));

    const malformed = await call(api.url, 'GET', path, {
      headers: { Authorization: `Token ${a.api_token}` },
      instanceId: a.instance_id,
      userAgent,
    });
    assert.equal(malformed.body.headers.authorization, 'present');
    assert.equal(malformed.body.bearer_format, false);
    assert.equal(malformed.body.token_valid, false);
    assertNoTokenIn(malformed, a.api_token);
  });

  it('shows a disabled instance, and takes scoped keys', async () => {
    const plugin = await registerPlugin(api.url);
    const key = await asPlugin(api.url, plugin)('POST', '/api/v1/api-keys', {
      body: { name: 'debug', scopes: ['credits:read'] },
    });
    issuedSecrets.push(key.body.api_key.key);
    const scoped = await asPlugin(api.url, { ...plugin, api_token: key.body.api_key.key })('GET', path, {
      userAgent,
    });
    assert.equal(scoped.body.token_valid, true);
    assert.equal(scoped.body.instance_id_matches, true);
    assertNoTokenIn(scoped, key.body.api_key.key);

    await call(api.url, 'POST', `/admin/v1/instances/${plugin.instance_id}/disable`, {
      token: adminToken,
      userAgent: 'ops',
      body: { reason: 'test' },
    });
    const disabled = await asPlugin(api.url, plugin)('GET', path, { userAgent });
    assert.equal(disabled.body.token_valid, true);
    assert.equal(disabled.body.instance_status, 'disabled');
    assert.equal(disabled.body.authenticated, false);
  });

  it('is limited per client address', async () => {
    // A database of its own, so other suites' calls from this address do not share the window.
    const database = 'rakubun_test_auth_debug';
    const limited = await startTestApi({
      MONGODB_URL: process.env.MONGODB_URL!,
      MONGODB_DATABASE: database,
      REGISTRATION_RATE_LIMIT_PER_MINUTE: '3',
    });
    try {
      const leftInWindow = 60_000 - (Date.now() % 60_000);
      if (leftInWindow < 5_000) await new Promise((resolve) => setTimeout(resolve, leftInWindow + 50));
      const statuses: number[] = [];
      let last: CallResult | undefined;
      for (let i = 0; i < 4; i += 1) {
        last = await call(limited.url, 'GET', path, {
          token: `rk_${String(i).repeat(43)}`,
          instanceId: 'x',
          userAgent,
        });
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      assert.equal(last?.body.error, 'rate_limited');
      assert.ok(Number(last?.headers.get('retry-after')) >= 1);
    } finally {
      await limited.stop();
      const { mongoClient } = await stack();
      await mongoClient.db(database).dropDatabase();
    }
  });
});
