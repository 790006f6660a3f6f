import assert from 'node:assert/strict';
import { startTestApi } from '../helpers/env';
import { asPlugin, call, registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';

// GET /api/v1/config/stripe hands out STRIPE_PUBLISHABLE_KEY, read by the plugin's checkout page.

describe('Plugin configuration: Stripe publishable key', () => {
  const withKey = async (key: string, check: (api: { url: string }) => Promise<void>) => {
    const api = await startTestApi({ STRIPE_PUBLISHABLE_KEY: key });
    try {
      await check(api);
    } finally {
      await api.stop();
    }
  };

  it('answers the test key with test_mode true', async () => {
    await withKey('pk_test_51Example0123456789', async (api) => {
      const plugin = asPlugin(api.url, await registerPlugin(api.url));
      // class-rakubun-ai-external-api.php get_stripe_config(): success and public_key
      const response = await plugin('GET', '/api/v1/config/stripe');
      assert.equal(response.status, 200);
      assertResponseMatches('GET', '/api/v1/config/stripe', response.body);
      assert.deepEqual(response.body, {
        success: true,
        public_key: 'pk_test_51Example0123456789',
        currency: 'JPY',
        test_mode: true,
      });
      assert.equal((await call(api.url, 'GET', '/api/v1/config/stripe')).status, 401);
    });
  });

  it('answers a live key with test_mode false', async () => {
    await withKey('pk_live_51Example0123456789', async (api) => {
      const plugin = asPlugin(api.url, await registerPlugin(api.url));
      // class-rakubun-ai-external-api.php get_stripe_config()
      const response = await plugin('GET', '/api/v1/config/stripe');
      assert.equal(response.status, 200);
      assert.equal(response.body.public_key, 'pk_live_51Example0123456789');
      assert.equal(response.body.test_mode, false);
    });
  });

  it('answers 404 no_stripe_key when none is configured', async () => {
    // An empty value counts as unset.
    await withKey('', async (api) => {
      const plugin = asPlugin(api.url, await registerPlugin(api.url));
      // class-rakubun-ai-external-api.php test_stripe_configuration(): no key, so no_stripe_key
      const response = await plugin('GET', '/api/v1/config/stripe');
      assert.equal(response.status, 404);
      assert.deepEqual(Object.keys(response.body).sort(), ['error', 'message', 'success']);
      assert.equal(response.body.error, 'no_stripe_key');
    });
  });
});
