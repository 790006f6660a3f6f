import assert from 'node:assert/strict';
import { registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';
import { type PurchaseWorld, startPurchaseWorld, stripeKey } from '../purchases/harness';
import { phpSuccess, type WordpressPlugin, wordpressPlugin } from './wordpress-plugin';

// The plugin's purchase paths, called as its PHP code calls them, asserting on exactly the fields
// that code reads. The Stripe side is the local sandbox; the buyer "pays" through its control API.

describe('plugin compatibility: purchases', function () {
  this.timeout(120_000);
  let world: PurchaseWorld;
  let wp: WordpressPlugin;
  const user = { id: 7, email: 'author@example.jp' };

  before(async () => {
    world = await startPurchaseWorld({ PAYMENT_VERIFY_WAIT_MS: '3000' });
    wp = wordpressPlugin(world.api.url, world.plugin);
  });
  after(() => world.stop());

  /** admin/class-rakubun-ai-admin.php ajax_create_checkout_session(): the lookup and the call. */
  async function createCheckoutSession(packageId: string, amount: number) {
    const credit_type = packageId.includes('image')
      ? 'image'
      : packageId.includes('rewrite')
        ? 'rewrite'
        : 'article';
    const packages = await wp.makeRequest('GET', '/packages');
    assert.ok(phpSuccess(packages.body) && packages.body.packages, 'get_packages() returns the packages');
    const group = { article: 'articles', image: 'images', rewrite: 'rewrites' }[credit_type]!;
    const pkg = (packages.body.packages[group] ?? []).find(
      (p: { package_id?: string }) => p.package_id === packageId,
    );
    assert.ok(pkg, `"Package not found." for ${packageId} in packages.${group}`);
    const adminUrl = `${wp.siteUrl}/wp-admin/admin.php`;
    const response = await wp.wpRemotePost('/checkout/sessions', {
      user_id: user.id,
      user_email: user.email,
      credit_type,
      package_id: packageId,
      amount,
      currency: pkg.currency ?? 'JPY',
      return_url: `${adminUrl}?page=rakubun-ai-purchase&session_id={CHECKOUT_SESSION_ID}&status=success`,
      cancel_url: `${adminUrl}?page=rakubun-ai-purchase&status=cancel`,
    });
    // `if ($status_code !== 200 || empty($body['success']))` → "Failed to create checkout session."
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.ok(phpSuccess(response.body));
    const checkoutUrl = response.body.url ?? response.body.checkout_url;
    assert.ok(checkoutUrl, '"No checkout URL provided by dashboard."');
    assertResponseMatches('post', '/api/v1/checkout/sessions', response.body);
    return response.body as { session_id: string; purchase_id: string };
  }

  /** admin/partials/purchase.php: the buyer's return, `session_id` taken from the query string. */
  const verify = (sessionId: string) => wp.makeRequest('POST', '/checkout/verify', { session_id: sessionId });

  it('test_connection() and get_packages(): success and the grouped packages', async () => {
    const packages = await wp.makeRequest('GET', '/packages');
    assert.ok(phpSuccess(packages.body));
    assertResponseMatches('get', '/api/v1/packages', packages.body);
    for (const group of ['articles', 'images', 'rewrites'])
      assert.ok(packages.body.packages[group].length > 0);
    // The fallback ids the plugin hard-codes exist, at the prices it falls back to.
    const byId = new Map(
      packages.body.packages.packages.map((p: { id: string; price: number }) => [p.id, p.price]),
    );
    assert.deepEqual(
      ['article_starter', 'image_starter', 'rewrite_starter', 'rewrite_pro', 'rewrite_business'].map((id) =>
        byId.get(id),
      ),
      [750, 300, 9800, 39800, 129800],
    );
  });

  it('ajax_create_checkout_session() with the WordPress User-Agent, then verify: unpaid, paid, repeated', async () => {
    const created = await createCheckoutSession('article_starter', 750);

    // Stripe was given the plugin's return URL with the placeholder kept for Stripe to fill in.
    const session = await fetch(`${world.sandbox.url}/v1/checkout/sessions/${created.session_id}`, {
      headers: { Authorization: `Bearer ${stripeKey}` },
    }).then((response) => response.json());
    assert.equal(
      session.success_url,
      `${wp.siteUrl}/wp-admin/admin.php?page=rakubun-ai-purchase&session_id={CHECKOUT_SESSION_ID}&status=success`,
    );

    const unpaid = await verify(created.session_id);
    assert.equal(unpaid.status, 402, JSON.stringify(unpaid.body));
    assert.equal(phpSuccess(unpaid.body), false);
    assert.equal(unpaid.body.error, 'payment_not_completed');
    assert.equal(unpaid.body.payment_status, 'unpaid');

    const before = await world.balance({ id: String(user.id), email: user.email });
    await world.control(`checkout/sessions/${created.session_id}/pay`);
    let paid = await verify(created.session_id);
    for (let tries = 0; paid.status === 202 && tries < 10; tries++) paid = await verify(created.session_id);
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.ok(phpSuccess(paid.body));
    assert.equal(paid.body.status, 'fulfilled');
    assert.equal(paid.body.credits_added, 10);
    assert.equal(paid.body.credit_type, 'article');
    assert.equal(paid.body.remaining_credits.article_credits, before + 10);
    assert.ok(paid.body.transaction_id);
    assertResponseMatches('post', '/api/v1/checkout/verify', paid.body);

    const again = await verify(created.session_id);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, paid.body);
    assert.deepEqual((await world.entries(created.purchase_id)).byKind, { purchase: 1 });
  });

  it("verify of an unknown session, or another instance's, is 404 session_not_found", async () => {
    const unknown = await verify('cs_test_doesnotexist');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'session_not_found');
    const mine = await createCheckoutSession('pkg_article_10', 750);
    const stranger = wordpressPlugin(world.api.url, await registerPlugin(world.api.url));
    const theirs = await stranger.makeRequest('POST', '/checkout/verify', { session_id: mine.session_id });
    assert.equal(theirs.status, 404);
    assert.equal(theirs.body.error, 'session_not_found');
  });

  it('create_payment_intent() and confirm_payment(), before and after the buyer pays', async () => {
    // ajax_create_payment_intent(): looks in packages.packages for the id it maps 'articles' to.
    const packages = await wp.makeRequest('GET', '/packages');
    const pkg = packages.body.packages.packages.find(
      (p: { id?: string; package_id?: string }) =>
        p.id === 'image_starter' || p.package_id === 'image_starter',
    );
    assert.ok(pkg, 'found without falling back to local prices');
    const amount = Number.parseInt(String(pkg.price), 10);
    const intent = await wp.makeRequest('POST', '/payments/create-intent', {
      user_id: user.id,
      user_email: user.email,
      site_url: wp.siteUrl,
      credit_type: 'image',
      package_id: pkg.id ?? pkg.package_id,
      amount,
      currency: 'JPY',
      instance_id: wp.instanceId,
    });
    assert.ok(phpSuccess(intent.body), JSON.stringify(intent.body));
    assert.match(intent.body.client_secret, /_secret_/);
    assert.match(intent.body.payment_intent_id, /^pi_/);
    assert.equal(intent.body.amount, 300);
    assert.equal(intent.body.currency, 'JPY');
    assertResponseMatches('post', '/api/v1/payments/create-intent', intent.body);

    // confirm_payment($payment_intent_id, $user_id, $credit_type): no user_email in the body.
    const confirm = () =>
      wp.makeRequest('POST', '/payments/confirm', {
        payment_intent_id: intent.body.payment_intent_id,
        user_id: user.id,
        credit_type: 'image',
        site_url: wp.siteUrl,
        instance_id: wp.instanceId,
      });
    const early = await confirm();
    // Not paid: success is false, so the plugin does not say "Credits added successfully!".
    assert.equal(phpSuccess(early.body), false, JSON.stringify(early.body));
    assert.equal(early.status, 402);

    const before = await world.balance({ id: String(user.id), email: user.email }, 'image');
    await world.control(`payment_intents/${intent.body.payment_intent_id}/succeed`, { send_webhooks: false });
    let done = await confirm();
    for (let tries = 0; done.status === 202 && tries < 10; tries++) done = await confirm();
    assert.ok(phpSuccess(done.body), JSON.stringify(done.body));
    assert.equal(Number.parseInt(String(done.body.credits_added), 10), 20);
    assert.ok(done.body.transaction_id);
    assert.equal(done.body.remaining_credits.image_credits, before + 20);
    assertResponseMatches('post', '/api/v1/payments/confirm', done.body);
  });
});
