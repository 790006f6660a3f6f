import assert from 'node:assert/strict';
import { startTestApi } from '../helpers/env';
import { adminToken } from '../helpers/http';
import { registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';
import { phpSuccess, type WordpressPlugin, wordpressPlugin } from './wordpress-plugin';

// includes/class-rakubun-ai-external-api.php get_user_credits() and deduct_credits(), sent as the
// PHP sends them (user_id an integer, site_url extra, amount through intval).

describe('plugin compatibility: credits', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  let wp: WordpressPlugin;
  const user = { id: 12, email: 'writer@example.jp' };

  before(async () => {
    api = await startTestApi();
    wp = wordpressPlugin(api.url, await registerPlugin(api.url));
    const grant = await fetch(`${api.url}/admin/v1/credits/adjust`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        instance_id: wp.instanceId,
        user_id: user.id,
        user_email: user.email,
        credit_type: 'article',
        delta: 3,
        reason: 'test',
      }),
    });
    assert.equal(grant.status, 200);
  });
  after(() => api.stop());

  const getCredits = () =>
    wp.makeRequest('GET', '/users/credits', {
      user_id: user.id,
      user_email: user.email,
      site_url: wp.siteUrl,
    });
  const deduct = (amount: number) =>
    wp.makeRequest('POST', '/users/deduct-credits', {
      user_id: user.id,
      user_email: user.email,
      site_url: wp.siteUrl,
      credit_type: 'article',
      amount,
    });

  it('get_user_credits(): success and credits.<type>_credits', async () => {
    const response = await getCredits();
    assert.equal(response.status, 200);
    // `!empty($response['success']) && !empty($response['credits'])`, then intval of each field.
    assert.ok(phpSuccess(response.body) && response.body.credits);
    assert.equal(response.body.credits.article_credits, 3);
    assert.equal(response.body.credits.image_credits, 0);
    assert.equal(response.body.credits.rewrite_credits, 0);
    assertResponseMatches('get', '/api/v1/users/credits', response.body);
  });

  it('deduct_credits() with enough credits: success, remaining_credits and transaction_id', async () => {
    const response = await deduct(2);
    assert.ok(phpSuccess(response.body), JSON.stringify(response.body));
    assert.ok(response.body.transaction_id);
    assert.deepEqual(response.body.remaining_credits, {
      article_credits: 1,
      image_credits: 0,
      rewrite_credits: 0,
    });
    assertResponseMatches('post', '/api/v1/users/deduct-credits', response.body);
  });

  it('deduct_credits() without enough: success false (the plugin returns null), nothing deducted', async () => {
    const response = await deduct(5);
    assert.equal(response.status, 402);
    assert.equal(phpSuccess(response.body), false);
    assert.equal(response.body.error, 'insufficient_credits');
    assert.equal(response.body.remaining_credits.article_credits, 1);
    const after = await getCredits();
    assert.equal(after.body.credits.article_credits, 1);
  });
});
