import assert from 'node:assert/strict';
import { publishEvent } from '../../src/webhooks/publish';
import { startTestApi } from '../helpers/env';
import { asPlugin, type CallResult, issuedSecrets, registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';
import { creditsData, type Harness, quickSchedule, webhookHarness } from './harness';
import { type Receiver, startReceiver } from './receiver';

function assertError(result: CallResult, status: number, code: string) {
  assert.equal(result.status, status, JSON.stringify(result.body));
  assert.equal(result.body.success, false);
  assert.equal(result.body.error, code);
}

describe('webhook endpoints API', function () {
  this.timeout(60_000);
  let h: Harness;
  let site: Receiver;
  let hooks: Receiver;
  before(async () => {
    h = await webhookHarness();
    site = await startReceiver();
    hooks = await startReceiver();
  });
  after(async () => {
    await site.close();
    await hooks.close();
    await h.stop();
  });

  it('registers, lists and deletes endpoints; the default one is always there and cannot be deleted', async () => {
    const plugin = await registerPlugin(h.apiUrl, { site_url: `${site.url}/blog/` });
    const as = asPlugin(h.apiUrl, plugin);
    const created = await as('POST', '/api/v1/webhooks', {
      body: {
        url: `${hooks.url}/rakubun`,
        events: ['credits_updated', 'package_updated'],
        description: 'CRM',
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.endpoint.id, /^we_/);
    assert.deepEqual(created.body.endpoint.events, ['credits_updated', 'package_updated']);
    assertResponseMatches('POST', '/api/v1/webhooks', created.body);
    assertResponseMatches('GET', '/api/v1/webhooks/{id}', (await as('GET', '/api/v1/webhooks/default')).body);

    const listed = await as('GET', '/api/v1/webhooks');
    assert.equal(listed.status, 200);
    assertResponseMatches('GET', '/api/v1/webhooks', listed.body);
    assert.deepEqual(
      listed.body.endpoints.map((e: { id: string; url: string }) => [e.id, e.url]),
      [
        ['default', `${site.url}/blog/wp-admin/admin-ajax.php?action=rakubun_webhook`],
        [created.body.endpoint.id, `${hooks.url}/rakubun`],
      ],
    );
    assertError(await as('DELETE', '/api/v1/webhooks/default'), 400, 'invalid_request');
    const deleted = await as('DELETE', `/api/v1/webhooks/${created.body.endpoint.id}`);
    assert.equal(deleted.status, 200);
    assertResponseMatches('DELETE', '/api/v1/webhooks/{id}', deleted.body);
    assertError(await as('GET', `/api/v1/webhooks/${created.body.endpoint.id}`), 404, 'not_found');
    assert.equal((await as('GET', '/api/v1/webhooks')).body.endpoints.length, 1);
  });

  it('validates bodies with every bad field named, and refuses private targets when not allowed', async () => {
    const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
    const as = asPlugin(h.apiUrl, plugin);
    const bad = await as('POST', '/api/v1/webhooks', { body: { url: 'not a url', events: ['refunds'] } });
    assertError(bad, 400, 'invalid_request');
    assert.match(bad.body.message, /url/);
    assert.match(bad.body.message, /events/);
    assertError(await as('POST', '/api/v1/webhooks', { body: {} }), 400, 'invalid_request');
    assertError(await as('POST', '/api/v1/webhooks/default/replay', { body: {} }), 400, 'invalid_request');

    const strict = await startTestApi({ TEMPORAL_TASK_QUEUE: h.taskQueue });
    try {
      const other = await registerPlugin(strict.url);
      const refused = await asPlugin(strict.url, other)('POST', '/api/v1/webhooks', {
        body: { url: 'http://169.254.169.254/latest/meta-data/' },
      });
      assertError(refused, 400, 'invalid_request');
      assert.match(refused.body.message, /metadata/);
    } finally {
      await strict.stop();
    }
  });

  it('another instance gets 404 for every route of an endpoint it does not own', async () => {
    const owner = await registerPlugin(h.apiUrl, { site_url: site.url });
    const stranger = await registerPlugin(h.apiUrl, { site_url: site.url });
    const created = await asPlugin(h.apiUrl, owner)('POST', '/api/v1/webhooks', {
      body: { url: `${hooks.url}/x` },
    });
    const id = created.body.endpoint.id;
    const as = asPlugin(h.apiUrl, stranger);
    assertError(await as('GET', `/api/v1/webhooks/${id}`), 404, 'not_found');
    assertError(await as('DELETE', `/api/v1/webhooks/${id}`), 404, 'not_found');
    assertError(await as('POST', `/api/v1/webhooks/${id}/test`), 404, 'not_found');
    assertError(await as('GET', `/api/v1/webhooks/${id}/attempts`), 404, 'not_found');
    assertError(
      await as('POST', `/api/v1/webhooks/${id}/replay`, { body: { event_id: 'evt_x' } }),
      404,
      'not_found',
    );

    // Nor can it replay the owner's events to its own endpoint.
    const published = await publishEvent(h.publisher, {
      instance_id: owner.instance_id,
      event: 'config_updated',
      data: { key: 'openai' },
    });
    assertError(
      await as('POST', '/api/v1/webhooks/default/replay', { body: { event_id: published.event_id } }),
      404,
      'not_found',
    );
  });

  it('needs the webhooks:manage scope from a scoped key', async () => {
    const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
    const as = asPlugin(h.apiUrl, plugin);
    const reader = await as('POST', '/api/v1/api-keys', { body: { name: 'r', scopes: ['config:read'] } });
    const manager = await as('POST', '/api/v1/api-keys', {
      body: { name: 'm', scopes: ['webhooks:manage'] },
    });
    issuedSecrets.push(reader.body.api_key.key, manager.body.api_key.key);
    assertError(
      await asPlugin(h.apiUrl, { ...plugin, api_token: reader.body.api_key.key })('GET', '/api/v1/webhooks'),
      403,
      'forbidden',
    );
    assert.equal(
      (
        await asPlugin(h.apiUrl, { ...plugin, api_token: manager.body.api_key.key })(
          'GET',
          '/api/v1/webhooks',
        )
      ).status,
      200,
    );
  });

  it('sends events only to endpoints whose filter takes them', async () => {
    const own = await startReceiver();
    try {
      const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
      await asPlugin(h.apiUrl, plugin)('POST', '/api/v1/webhooks', {
        body: { url: `${own.url}/packages-only`, events: ['package_updated'] },
      });
      const credits = await publishEvent(h.publisher, {
        instance_id: plugin.instance_id,
        event: 'credits_updated',
        data: creditsData({ user_id: 1, ledger_seq: 1 }),
      });
      assert.deepEqual(
        credits.deliveries.map((d) => d.endpoint_id),
        ['default'],
      );
      const packages = await publishEvent(h.publisher, {
        instance_id: plugin.instance_id,
        event: 'package_updated',
        data: { package_id: 'pkg_1' },
      });
      assert.equal(packages.deliveries.length, 2);
      const [received] = await own.waitFor(1);
      assert.equal(received!.json.event, 'package_updated');
    } finally {
      await own.close();
    }
  });

  it('a test send reports its one attempt; the attempts log shows it', async () => {
    const failing = await startReceiver(() => ({ status: 500, body: 'wp error' }));
    try {
      const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
      const as = asPlugin(h.apiUrl, plugin);
      const ok = await as('POST', '/api/v1/webhooks/default/test');
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.delivered, true);
      assert.equal(ok.body.attempt.status_code, 200);
      assertResponseMatches('POST', '/api/v1/webhooks/{id}/test', ok.body);
      const received = site.received.find((w) => w.json?.id === ok.body.event_id);
      assert.equal(received?.json.event, 'test_webhook');

      const endpoint = await as('POST', '/api/v1/webhooks', { body: { url: `${failing.url}/down` } });
      const id = endpoint.body.endpoint.id;
      const bad = await as('POST', `/api/v1/webhooks/${id}/test`);
      assert.equal(bad.status, 200);
      assert.equal(bad.body.delivered, false);
      assert.equal(bad.body.delivery.status, 'failed', 'a test send is not retried nor dead-lettered');
      assert.equal(bad.body.attempt.status_code, 500);
      assert.equal(bad.body.attempt.response_body, null, 'a loopback receiver: its answer is not shown');
      assertResponseMatches('POST', '/api/v1/webhooks/{id}/test', bad.body);

      const log = await as('GET', `/api/v1/webhooks/${id}/attempts?limit=10`);
      assert.equal(log.status, 200);
      assert.equal(log.body.attempts.length, 1);
      assertResponseMatches('GET', '/api/v1/webhooks/{id}/attempts', log.body);
      assert.equal(log.body.attempts[0].event_id, bad.body.event_id);
      assert.equal(failing.received.length, 1);
    } finally {
      await failing.close();
    }
  });

  it('replays one event, or the dead letters of a time range and chosen types, with a dry run', async () => {
    const flaky = await startReceiver(() => ({ status: 500 }));
    try {
      const plugin = await registerPlugin(h.apiUrl, { site_url: flaky.url });
      const as = asPlugin(h.apiUrl, plugin);
      const since = new Date().toISOString();
      const publish = (event: 'config_updated' | 'package_updated') =>
        publishEvent(h.publisher, {
          instance_id: plugin.instance_id,
          event,
          data: {},
          schedule: quickSchedule(100, 300),
        });
      const config = await publish('config_updated');
      const pkg = await publish('package_updated');
      for (const published of [config, pkg]) {
        await h.waitForDelivery(`${published.event_id}:default`, (d) => d.status === 'dead_lettered');
      }
      const dry = await as('POST', '/api/v1/webhooks/default/replay', {
        body: { since, event_types: ['package_updated'], dry_run: true },
      });
      assert.equal(dry.status, 200, JSON.stringify(dry.body));
      assert.equal(dry.body.dry_run, true);
      assertResponseMatches('POST', '/api/v1/webhooks/{id}/replay', dry.body);
      assert.deepEqual(
        dry.body.deliveries.map((d: { event_id: string; replay: string }) => [d.event_id, d.replay]),
        [[pkg.event_id, 'would_send']],
      );

      flaky.setResponder(() => ({ status: 200 }));
      const sent = await as('POST', '/api/v1/webhooks/default/replay', { body: { since } });
      assert.equal(sent.body.found, 2);
      assertResponseMatches('POST', '/api/v1/webhooks/{id}/replay', sent.body);
      await h.waitForDelivery(`${config.event_id}:default`, (d) => d.status === 'delivered');
      await h.waitForDelivery(`${pkg.event_id}:default`, (d) => d.status === 'delivered');

      // One event again on request, even after it was delivered.
      const before = flaky.received.length;
      const again = await as('POST', '/api/v1/webhooks/default/replay', {
        body: { event_id: config.event_id },
      });
      assert.equal(again.body.deliveries[0].replay, 'started');
      assertResponseMatches('POST', '/api/v1/webhooks/{id}/replay', again.body);
      const resent = await flaky.waitFor(before + 1);
      assert.equal(resent.at(-1)!.headers['webhook-id'], config.event_id);
    } finally {
      await flaky.close();
    }
  });
});
