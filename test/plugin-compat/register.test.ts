import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { collectionNames } from '../../src/mongo/collections';
import { stack, startTestApi } from '../helpers/env';
import { asPlugin, call, issuedSecrets } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';

// includes/class-rakubun-ai-external-api.php register_plugin(): a POST with no auth headers, the
// plugin's own User-Agent, and a wp_json_encode'd body of the site's profile. It reads `success`,
// `api_token` and `webhook_secret`.

const userAgent = 'Rakubun-WordPress-Plugin/1.0.0';

/** The body register_plugin() builds: counts are integers (intval), dates current_time('mysql'). */
function registrationBody(overrides: Record<string, unknown> = {}) {
  return {
    instance_id: randomUUID(),
    site_url: 'https://blog.example.jp',
    site_title: 'ラクブン ブログ',
    admin_email: 'admin@blog.example.jp',
    wordpress_version: '6.4.2',
    plugin_version: '1.0.0',
    php_version: '8.2.12',
    theme: 'Twenty Twenty-Four',
    timezone: 'Asia/Tokyo',
    language: 'ja',
    post_count: 12,
    page_count: 3,
    activation_date: '2025-11-06 10:00:00',
    last_activity: '2025-11-06 10:05:00',
    ...overrides,
  };
}

function register(url: string, body: unknown) {
  return call(url, 'POST', '/api/v1/plugins/register', { body, userAgent });
}

describe('plugin compat: register_plugin()', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.stop());

  it('answers 200 with the credentials the plugin stores, and keeps the whole profile', async () => {
    const body = registrationBody();
    const result = await register(api.url, body);
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body.success, true);
    assert.equal(typeof result.body.api_token, 'string');
    assert.equal(typeof result.body.webhook_secret, 'string');
    assert.equal(result.body.instance_id, body.instance_id);
    assert.equal(result.body.status, 'registered');
    assertResponseMatches('POST', '/api/v1/plugins/register', result.body);
    issuedSecrets.push(result.body.api_token, result.body.webhook_secret);

    const shown = await asPlugin(api.url, result.body)('GET', `/api/v1/instances/${body.instance_id}`, {
      userAgent,
    });
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    assertResponseMatches('GET', '/api/v1/instances/{id}', shown.body);
    const instance = shown.body.instance;
    for (const field of [
      'site_url',
      'site_title',
      'admin_email',
      'wordpress_version',
      'plugin_version',
      'php_version',
      'theme',
      'timezone',
      'language',
      'post_count',
      'page_count',
    ] as const) {
      assert.equal(instance[field], body[field], field);
    }
    assert.equal(instance.media_count, null, 'not sent');
    // 10:00 in Asia/Tokyo (UTC+9) is 01:00 UTC.
    assert.equal(instance.activation_date, '2025-11-06T01:00:00.000Z');
    assert.equal(instance.last_activity, '2025-11-06T01:05:00.000Z');
    const text = JSON.stringify(shown.body);
    assert.equal(text.includes(result.body.api_token), false);
    assert.equal(text.includes(result.body.webhook_secret), false);
    assert.equal(/hash|secret/.test(text), false, 'no credential material');

    const { db } = await stack();
    const stored = await db.collection(collectionNames.instances).findOne({ instance_id: body.instance_id });
    assert.ok(stored?.activation_date instanceof Date, 'stored as a date');
    assert.equal(stored?.post_count, 12);
  });

  it('a second registration of the instance_id is 409 already_registered, with no credentials', async () => {
    const body = registrationBody();
    const first = await register(api.url, body);
    assert.equal(first.status, 200);
    issuedSecrets.push(first.body.api_token, first.body.webhook_secret);
    const again = await register(api.url, { ...body, site_title: 'Another' });
    assert.equal(again.status, 409);
    assert.equal(again.body.success, false);
    assert.equal(again.body.error, 'already_registered');
    assert.equal(again.body.api_token, undefined);
    assert.equal(again.body.webhook_secret, undefined);
  });

  it('reads MySQL times in the site zone (IANA, offset or UTC) and ISO 8601; never refuses a format', async () => {
    const cases: Array<[Record<string, unknown>, string | null]> = [
      [{ timezone: '+09:00' }, '2025-11-06T01:00:00.000Z'],
      [{ timezone: 'UTC' }, '2025-11-06T10:00:00.000Z'],
      [{ timezone: 'UTC', activation_date: '2025-11-06T10:00:00+09:00' }, '2025-11-06T01:00:00.000Z'],
      [{ timezone: 'Asia/Tokyo', activation_date: '2025-11-06T01:00:00Z' }, '2025-11-06T01:00:00.000Z'],
      // MySQL's zero date and unreadable text name no time: kept out, not refused.
      [{ activation_date: '0000-00-00 00:00:00' }, null],
      [{ activation_date: 'yesterday' }, null],
    ];
    for (const [overrides, expected] of cases) {
      const body = registrationBody({ ...overrides, media_count: 40 });
      const result = await register(api.url, body);
      assert.equal(result.status, 200, `${JSON.stringify(overrides)}: ${JSON.stringify(result.body)}`);
      issuedSecrets.push(result.body.api_token, result.body.webhook_secret);
      const shown = await asPlugin(api.url, result.body)('GET', `/api/v1/instances/${body.instance_id}`);
      assert.equal(shown.body.instance.activation_date, expected, JSON.stringify(overrides));
      assert.equal(shown.body.instance.media_count, 40);
    }
  });

  it('accepts counts sent as strings and optional fields sent as null; refuses bad values by name', async () => {
    const lenient = registrationBody({ post_count: '12', page_count: 0, theme: null, site_title: '' });
    const ok = await register(api.url, lenient);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    issuedSecrets.push(ok.body.api_token, ok.body.webhook_secret);
    const shown = await asPlugin(api.url, ok.body)('GET', `/api/v1/instances/${lenient.instance_id}`);
    assert.equal(shown.body.instance.post_count, 12);
    assert.equal(shown.body.instance.theme, null);
    assert.equal(shown.body.instance.site_title, '');

    const bad = await register(
      api.url,
      registrationBody({ post_count: -1, page_count: 1.5, site_title: 'x'.repeat(501), language: 7 }),
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_request');
    for (const field of ['post_count', 'page_count', 'site_title', 'language']) {
      assert.match(bad.body.message, new RegExp(field), bad.body.message);
    }
  });

  it('PUT /instances/:id takes the same profile fields (times read in the stored zone)', async () => {
    const body = registrationBody();
    const result = await register(api.url, body);
    issuedSecrets.push(result.body.api_token, result.body.webhook_secret);
    const plugin = asPlugin(api.url, result.body);
    const updated = await plugin('PUT', `/api/v1/instances/${body.instance_id}`, {
      userAgent,
      body: {
        theme: 'Astra',
        post_count: 13,
        media_count: 99,
        plugin_version: '1.0.1',
        last_activity: '2025-11-07 09:00:00',
      },
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assertResponseMatches('PUT', '/api/v1/instances/{id}', updated.body);
    const instance = updated.body.instance;
    assert.equal(instance.theme, 'Astra');
    assert.equal(instance.post_count, 13);
    assert.equal(instance.media_count, 99);
    assert.equal(instance.plugin_version, '1.0.1');
    assert.equal(instance.last_activity, '2025-11-07T00:00:00.000Z');
    assert.equal(instance.site_title, body.site_title, 'untouched');
    assert.equal(instance.activation_date, '2025-11-06T01:00:00.000Z', 'untouched');

    const bad = await plugin('PUT', `/api/v1/instances/${body.instance_id}`, {
      body: { page_count: 'many' },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /page_count/);
  });
});
