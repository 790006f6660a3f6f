import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { collectionNames } from '../../src/mongo/collections';
import { stack, startTestApi } from '../helpers/env';
import { adminToken } from '../helpers/http';
import { asPlugin, type CallOptions, call, registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';

// What the Rakubun plugin (includes/class-rakubun-ai-external-api.php) reads from the provider
// settings routes, and what operators see of them.

const newKey = (prefix: string) => `${prefix}-${randomUUID().replaceAll('-', '')}`;
const masked = (key: string) => `${key.slice(0, 3)}…${key.slice(-4)}`;

describe('Plugin configuration: AI provider settings', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  let db: Db;
  const globalKey = newKey('sk-global');
  const admin = (method: string, path: string, options: CallOptions = {}) =>
    call(api.url, method, path, { token: adminToken, userAgent: 'ops-console', ...options });

  before(async () => {
    api = await startTestApi();
    db = (await stack()).db;
    // The database is shared by every suite: start with no operator settings at all.
    await db.collection(collectionNames.providerSettings).deleteMany({ scope: 'global' });
  });
  after(async () => api.stop());

  it('answers 401 without a token, plugin or operator', async () => {
    for (const path of ['/api/v1/config/provider', '/api/v1/config/article', '/api/v1/config/providers']) {
      const response = await call(api.url, 'GET', path);
      assert.equal(response.status, 401, path);
      assert.deepEqual(response.body, {
        success: false,
        error: 'unauthorized',
        message: response.body.message,
      });
    }
    const put = await call(api.url, 'PUT', '/api/v1/config/provider', { body: { provider: 'openai' } });
    assert.equal(put.status, 401);
    const adminRead = await call(api.url, 'GET', '/admin/v1/config/provider');
    assert.equal(adminRead.status, 401);
    const adminWrite = await call(api.url, 'PUT', '/admin/v1/config/provider', {
      token: 'not-the-admin-token-not-the-admin-token',
      body: { provider: 'openai', api_key: globalKey },
    });
    assert.equal(adminWrite.status, 401);
  });

  it('with nothing configured: 404 not_found, rewrite 404 no_provider_key, unknown provider 400', async () => {
    const plugin = asPlugin(api.url, await registerPlugin(api.url));
    // class-rakubun-ai-external-api.php get_provider_config(): falls back to its null return
    for (const path of [
      '/api/v1/config/provider?provider=openai',
      '/api/v1/config/provider?provider=novita',
    ]) {
      const response = await plugin('GET', path);
      assert.equal(response.status, 404, path);
      assert.equal(response.body.error, 'not_found');
      assert.equal(response.body.success, false);
    }
    // get_openai_config() and get_image_config(): no `config`, so they return null
    assert.equal((await plugin('GET', '/api/v1/config/article')).body.error, 'not_found');
    assert.equal((await plugin('GET', '/api/v1/config/image')).status, 404);
    assert.equal((await plugin('GET', '/api/v1/config/openai')).status, 404);
    // get_rewrite_config()
    const rewrite = await plugin('GET', '/api/v1/config/rewrite');
    assert.equal(rewrite.status, 404);
    assert.equal(rewrite.body.error, 'no_provider_key');

    const unknown = await plugin('GET', '/api/v1/config/provider?provider=anthropic');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'invalid_request');
    assert.match(unknown.body.message, /provider/);
    assert.equal((await plugin('GET', '/api/v1/config/article?provider=gemini')).status, 400);
    const badPut = await plugin('PUT', '/api/v1/config/provider', { body: { provider: 'anthropic' } });
    assert.equal(badPut.status, 400);
    assert.equal(badPut.body.error, 'invalid_request');
    const missing = await plugin('PUT', '/api/v1/config/provider', { body: { api_key: 'x' } });
    assert.equal(missing.status, 400);
    assert.match(missing.body.message, /Missing required fields: provider/);
    const badAdmin = await admin('PUT', '/admin/v1/config/provider', { body: { provider: 'nope' } });
    assert.equal(badAdmin.status, 400);
    assert.equal((await admin('GET', '/admin/v1/config/provider?provider=nope')).status, 400);

    const providers = await plugin('GET', '/api/v1/config/providers');
    assert.equal(providers.status, 200);
    assertResponseMatches('GET', '/api/v1/config/providers', providers.body);
    assert.deepEqual(
      providers.body.all_providers.map((p: { provider: string; provider_name: string; base_url: string }) => [
        p.provider,
        p.provider_name,
        p.base_url,
      ]),
      [
        ['openai', 'OpenAI', 'https://api.openai.com/v1'],
        ['novita', 'Novita AI', 'https://api.novita.ai/openai/v1'],
      ],
    );
    assert.deepEqual(providers.body.active_providers, []);
  });

  it('operator sets global OpenAI settings; every plugin reads them', async () => {
    const put = await admin('PUT', '/admin/v1/config/provider', {
      body: {
        provider: 'openai',
        api_key: globalKey,
        model_article: 'gpt-4o-mini',
        model_image: 'dall-e-3',
        max_tokens: 3000,
        temperature: 0.5,
        system_prompt_article: 'Write in Japanese.',
        active: true,
        comment: 'unknown fields are ignored',
      },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assertResponseMatches('PUT', '/admin/v1/config/provider', put.body);
    assert.equal(put.body.instance_id, null);
    assert.equal(put.body.settings.api_key, masked(globalKey));
    assert.equal(put.body.effective.api_key, masked(globalKey));
    assert.equal(JSON.stringify(put.body).includes(globalKey), false, 'the answer never holds the key');
    assert.match(put.body.broadcast.broadcast_id, /^bc_/, 'config_updated is on its way');

    const plugin = asPlugin(api.url, await registerPlugin(api.url));
    // class-rakubun-ai-external-api.php get_provider_config(): success, then api_key, provider,
    // model_article, model_image, max_tokens, temperature, base_url at the top level
    const provider = await plugin('GET', '/api/v1/config/provider?provider=openai');
    assert.equal(provider.status, 200);
    assertResponseMatches('GET', '/api/v1/config/provider', provider.body);
    assert.equal(provider.body.success, true);
    assert.equal(provider.body.api_key, globalKey);
    assert.equal(provider.body.provider, 'openai');
    assert.equal(provider.body.provider_name, 'OpenAI');
    assert.equal(provider.body.model_article, 'gpt-4o-mini');
    assert.equal(provider.body.model_image, 'dall-e-3');
    assert.equal(provider.body.max_tokens, 3000);
    assert.equal(provider.body.temperature, 0.5);
    assert.equal(provider.body.base_url, 'https://api.openai.com/v1');
    // Without ?provider= the instance's active provider (here the operator's pick).
    const byDefault = await plugin('GET', '/api/v1/config/provider');
    assert.equal(byDefault.body.provider, 'openai');

    // get_openai_config() and test_article_configuration(): success, non-empty config with
    // api_key and model, and top-level models
    const article = await plugin('GET', '/api/v1/config/article');
    assert.equal(article.status, 200);
    assertResponseMatches('GET', '/api/v1/config/article', article.body);
    assert.equal(article.body.config.api_key, globalKey);
    assert.equal(article.body.config.model, 'gpt-4o-mini');
    assert.equal(article.body.config.system_prompt, 'Write in Japanese.');
    assert.equal(article.body.config.base_url, 'https://api.openai.com/v1');
    assert.ok(Array.isArray(article.body.models) && article.body.models.length > 0);
    assert.equal(article.body.provider, 'openai');

    // get_image_config() and test_image_configuration()
    const image = await plugin('GET', '/api/v1/config/image?provider=openai');
    assert.equal(image.status, 200);
    assertResponseMatches('GET', '/api/v1/config/image', image.body);
    assert.equal(image.body.config.api_key, globalKey);
    assert.equal(image.body.config.model, 'dall-e-3');
    assert.equal(image.body.config.quality, 'standard');
    assert.ok(image.body.models.includes('dall-e-3'));

    // get_rewrite_config(): with a key now; the article model unless one is set for rewrites
    const rewrite = await plugin('GET', '/api/v1/config/rewrite');
    assert.equal(rewrite.status, 200);
    assertResponseMatches('GET', '/api/v1/config/rewrite', rewrite.body);
    assert.equal(rewrite.body.config.model, 'gpt-4o-mini');
    assert.equal(rewrite.body.config.api_key, globalKey);

    // The deprecated /config/openai form (the original dashboard's; the plugin no longer calls it).
    const openai = await plugin('GET', '/api/v1/config/openai');
    assert.equal(openai.status, 200);
    assertResponseMatches('GET', '/api/v1/config/openai', openai.body);
    assert.deepEqual(openai.body, {
      success: true,
      api_key: globalKey,
      model_article: 'gpt-4o-mini',
      model_image: 'dall-e-3',
      max_tokens: 3000,
      temperature: 0.5,
    });

    const providers = await plugin('GET', '/api/v1/config/providers');
    assertResponseMatches('GET', '/api/v1/config/providers', providers.body);
    assert.deepEqual(
      providers.body.active_providers.map((p: { provider: string; default: boolean }) => [
        p.provider,
        p.default,
      ]),
      [['openai', true]],
    );
    // Novita has nothing yet.
    assert.equal((await plugin('GET', '/api/v1/config/provider?provider=novita')).status, 404);
  });

  it('stores the key sealed: the document read through the driver holds no plain key', async () => {
    const doc = await db
      .collection(collectionNames.providerSettings)
      .findOne({ scope: 'global', provider: 'openai' });
    assert.ok(doc, 'the global OpenAI settings are stored');
    assert.equal(doc.api_key.alg, 'aes-256-gcm');
    assert.equal(doc.model_article, 'gpt-4o-mini');
    const everything = JSON.stringify(
      await db.collection(collectionNames.providerSettings).find({}).toArray(),
    );
    assert.equal(everything.includes(globalKey), false, 'plaintext provider key found via the driver');
    assert.equal(everything.includes(globalKey.slice(10)), false);
  });

  it('the operator sees settings with the key masked', async () => {
    const one = await admin('GET', '/admin/v1/config/provider?provider=openai');
    assert.equal(one.status, 200);
    assertResponseMatches('GET', '/admin/v1/config/provider', one.body);
    assert.equal(one.body.instance_id, null);
    assert.equal(one.body.default_provider, 'openai');
    assert.equal(one.body.providers.length, 1);
    const [openai] = one.body.providers;
    assert.equal(openai.global.api_key, masked(globalKey));
    assert.equal(openai.global.model_article, 'gpt-4o-mini');
    assert.equal(openai.global.updated_by, 'operator');
    assert.equal(openai.override, null);
    assert.equal(openai.effective.api_key, masked(globalKey));
    assert.equal(JSON.stringify(one.body).includes(globalKey), false);

    const all = await admin('GET', '/admin/v1/config/provider');
    assertResponseMatches('GET', '/admin/v1/config/provider', all.body);
    assert.deepEqual(
      all.body.providers.map((p: { provider: string }) => p.provider),
      ['openai', 'novita'],
    );
    assert.equal(all.body.providers[1].global, null);
    assert.equal(all.body.providers[1].effective, null);
    assert.equal((await admin('GET', '/admin/v1/config/provider?instance_id=no-such-site')).status, 404);
  });

  it("a plugin's own settings win over the operator's, field by field, for that instance only", async () => {
    const a = await registerPlugin(api.url);
    const b = await registerPlugin(api.url);
    const asA = asPlugin(api.url, a);
    const asB = asPlugin(api.url, b);
    const ownKey = newKey('sk-own');

    // WordPress options may arrive as strings: "1500" is 1500.
    const put = await asA('PUT', '/api/v1/config/provider', {
      body: {
        provider: 'openai',
        api_key: ownKey,
        model_article: 'gpt-4-turbo',
        max_tokens: '1500',
        site_url: 'x',
      },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assertResponseMatches('PUT', '/api/v1/config/provider', put.body);
    assert.equal(put.body.success, true);
    assert.equal(put.body.provider, 'openai');
    assert.equal(put.body.provider_name, 'OpenAI');
    assert.equal(JSON.stringify(put.body).includes(ownKey), false);

    // class-rakubun-ai-external-api.php get_provider_config()
    const mine = await asA('GET', '/api/v1/config/provider?provider=openai');
    assert.equal(mine.body.api_key, ownKey);
    assert.equal(mine.body.model_article, 'gpt-4-turbo');
    assert.equal(mine.body.max_tokens, 1500);
    assert.equal(mine.body.temperature, 0.5, "left unset by the plugin: the operator's");
    assert.equal(mine.body.model_image, 'dall-e-3');
    // get_openai_config()
    assert.equal((await asA('GET', '/api/v1/config/article')).body.config.api_key, ownKey);
    // Another instance still gets the operator's.
    const theirs = await asB('GET', '/api/v1/config/provider?provider=openai');
    assert.equal(theirs.body.api_key, globalKey);
    assert.equal(theirs.body.model_article, 'gpt-4o-mini');
    assert.equal(theirs.body.max_tokens, 3000);

    const adminView = await admin(
      'GET',
      `/admin/v1/config/provider?provider=openai&instance_id=${a.instance_id}`,
    );
    assert.equal(adminView.status, 200);
    assertResponseMatches('GET', '/admin/v1/config/provider', adminView.body);
    const [view] = adminView.body.providers;
    assert.equal(view.override.api_key, masked(ownKey));
    assert.equal(view.override.updated_by, 'plugin');
    assert.equal(view.override.temperature, null);
    assert.equal(view.global.api_key, masked(globalKey));
    assert.equal(view.effective.api_key, masked(ownKey));
    assert.equal(view.effective.temperature, 0.5);
    assert.equal(JSON.stringify(adminView.body).includes(ownKey), false);
    const stored = JSON.stringify(await db.collection(collectionNames.providerSettings).find({}).toArray());
    assert.equal(stored.includes(ownKey), false, "the plugin's key is sealed too");

    // An empty key (or null) clears the instance's own: the operator's applies again.
    await asA('PUT', '/api/v1/config/provider', { body: { provider: 'openai', api_key: '' } });
    const cleared = await asA('GET', '/api/v1/config/provider?provider=openai');
    assert.equal(cleared.body.api_key, globalKey);
    assert.equal(cleared.body.model_article, 'gpt-4-turbo', 'other own fields stay');

    // Saving Novita settings makes Novita this instance's provider; the other instance keeps OpenAI.
    const novitaKey = newKey('nv');
    const novita = await asA('PUT', '/api/v1/config/provider', {
      body: { provider: 'novita', api_key: novitaKey, model_article: 'deepseek/deepseek-v3' },
    });
    assert.equal(novita.body.provider_name, 'Novita AI');
    // get_provider_config() with no provider named
    const active = await asA('GET', '/api/v1/config/provider');
    assert.equal(active.body.provider, 'novita');
    assert.equal(active.body.api_key, novitaKey);
    assert.equal(active.body.base_url, 'https://api.novita.ai/openai/v1');
    // test_article_configuration(): models are the provider's
    const article = await asA('GET', '/api/v1/config/article');
    assert.equal(article.body.provider, 'novita');
    assert.equal(article.body.config.model, 'deepseek/deepseek-v3');
    assert.ok(article.body.models.includes('deepseek/deepseek-r1'));
    assert.equal((await asB('GET', '/api/v1/config/provider')).body.provider, 'openai');
    assert.equal((await asB('GET', '/api/v1/config/provider?provider=novita')).status, 404);
    const providers = await asA('GET', '/api/v1/config/providers');
    assert.deepEqual(
      providers.body.active_providers.map((p: { provider: string; default: boolean }) => [
        p.provider,
        p.default,
      ]),
      [
        ['openai', false],
        ['novita', true],
      ],
    );

    const invalid = await asA('PUT', '/api/v1/config/provider', {
      body: { provider: 'openai', temperature: 5, max_tokens: 'lots' },
    });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error, 'invalid_request');
    assert.match(invalid.body.message, /temperature/);
    assert.match(invalid.body.message, /max_tokens/);
  });

  it('an operator override for one instance wins for that instance only', async () => {
    const c = await registerPlugin(api.url);
    const d = await registerPlugin(api.url);
    const overrideKey = newKey('sk-override');
    const put = await admin('PUT', '/admin/v1/config/provider', {
      body: { provider: 'openai', instance_id: c.instance_id, api_key: overrideKey, model_rewrite: 'gpt-4' },
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assertResponseMatches('PUT', '/admin/v1/config/provider', put.body);
    assert.equal(put.body.instance_id, c.instance_id);
    assert.equal(put.body.settings.api_key, masked(overrideKey));
    assert.equal(put.body.settings.model_article, null);
    assert.equal(put.body.effective.model_article, 'gpt-4o-mini');
    assert.equal(JSON.stringify(put.body).includes(overrideKey), false);

    // class-rakubun-ai-external-api.php get_rewrite_config()
    const rewrite = await asPlugin(api.url, c)('GET', '/api/v1/config/rewrite');
    assert.equal(rewrite.body.config.api_key, overrideKey);
    assert.equal(rewrite.body.config.model, 'gpt-4');
    // get_provider_config()
    const other = await asPlugin(api.url, d)('GET', '/api/v1/config/provider?provider=openai');
    assert.equal(other.body.api_key, globalKey);

    const unknown = await admin('PUT', '/admin/v1/config/provider', {
      body: { provider: 'openai', instance_id: 'no-such-site', api_key: overrideKey },
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'not_found');
  });

  it('leaves the generic /config/:key routes working for other keys', async () => {
    const put = await admin('PUT', '/admin/v1/config/features', { body: { beta_editor: true } });
    assert.equal(put.status, 200);
    const plugin = asPlugin(api.url, await registerPlugin(api.url));
    const read = await plugin('GET', '/api/v1/config/features');
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.config, { beta_editor: true });
    // PUT /admin/v1/config/provider went to the provider settings, not to the generic store.
    const generic = await db.collection(collectionNames.pluginConfig).findOne({ key: 'provider' });
    assert.equal(generic, null);
  });
});
