import assert from 'node:assert/strict';
import { publishEvent } from '../../src/webhooks/publish';
import { webhookQueue } from '../../src/webhooks/queue';
import { asPlugin, type CallResult, call, registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';
import { adminToken, type Harness, quickSchedule, webhookHarness } from './harness';
import { type Receiver, startReceiver } from './receiver';

// Webhook recovery as an operator does it (issue 12): deliveries listed by state, and a replay of one
// still on its way.

const admin = () => ({ token: adminToken(), userAgent: 'ops' });

function ok(result: CallResult, status = 200) {
  assert.equal(result.status, status, JSON.stringify(result.body));
  return result.body;
}

function ids(body: { deliveries: Array<{ event_id: string }> }) {
  return body.deliveries.map((d) => d.event_id);
}

describe('admin webhook deliveries: listing by state and replaying one in flight', function () {
  this.timeout(90_000);
  let h: Harness;
  let site: Receiver;
  let failing: Receiver;
  let holding: Receiver;
  const events: Record<'delivered1' | 'delivered2' | 'dead' | 'retrying' | 'held', string> = {
    delivered1: '',
    delivered2: '',
    dead: '',
    retrying: '',
    held: '',
  };
  let instanceId = '';
  let failingId = '';

  before(async () => {
    h = await webhookHarness();
    site = await startReceiver(() => ({ status: 200 }));
    failing = await startReceiver(() => ({ status: 500 }));
    holding = await startReceiver(() => 'hold');
    const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
    instanceId = plugin.instance_id;
    const as = asPlugin(h.apiUrl, plugin);
    failingId = ok(await as('POST', '/api/v1/webhooks', { body: { url: `${failing.url}/hooks` } }), 201)
      .endpoint.id;
    const holdingId = ok(await as('POST', '/api/v1/webhooks', { body: { url: `${holding.url}/hooks` } }), 201)
      .endpoint.id;
    const publish = async (endpointId: string, stepMs: number, windowMs: number) =>
      (
        await publishEvent(h.publisher, {
          instance_id: instanceId,
          event: 'config_updated',
          data: { key: 'openai' },
          endpoint_ids: [endpointId],
          schedule: quickSchedule(stepMs, windowMs),
        })
      ).event_id;

    events.delivered1 = await publish('default', 100, 10_000);
    await h.waitForDelivery(`${events.delivered1}:default`, (d) => d.status === 'delivered');
    events.dead = await publish(failingId, 100, 300);
    await h.waitForDelivery(`${events.dead}:${failingId}`, (d) => d.status === 'dead_lettered');
    // Fails once, then waits a minute for its next attempt.
    events.retrying = await publish(failingId, 60_000, 600_000);
    await h.waitForDelivery(`${events.retrying}:${failingId}`, (d) => d.attempts === 1);
    // Its one attempt is held by the receiver: pending, not yet failed.
    events.held = await publish(holdingId, 100, 600_000);
    await holding.waitFor(1);
    events.delivered2 = await publish('default', 100, 10_000);
    await h.waitForDelivery(`${events.delivered2}:default`, (d) => d.status === 'delivered');
  });
  after(async () => {
    holding.releaseHeld();
    await Promise.all([site.close(), failing.close(), holding.close()]);
    await h.stop();
  });

  const list = (query: string, options: Record<string, unknown> = admin()) =>
    call(h.apiUrl, 'GET', `/admin/v1/webhooks/deliveries?instance_id=${instanceId}${query}`, options);

  it('lists pending, retrying, dead-lettered and delivered deliveries, each with its last error and next attempt', async () => {
    const retrying = ok(await list('&state=retrying'));
    assertResponseMatches('GET', '/admin/v1/webhooks/deliveries', retrying);
    assert.deepEqual(ids(retrying), [events.retrying]);
    const [one] = retrying.deliveries;
    assert.equal(one.state, 'retrying');
    assert.equal(one.status, 'pending');
    assert.equal(one.endpoint_id, failingId);
    assert.equal(one.attempts, 1);
    assert.equal(one.last_status_code, 500);
    assert.equal(one.last_error, 'HTTP 500');
    const nextIn = Date.parse(one.next_attempt_at) - Date.now();
    assert.ok(nextIn > 20_000 && nextIn < 70_000, `next attempt in ${nextIn} ms`);
    assert.equal(retrying.next_cursor, null);

    const pending = ok(await list('&state=pending'));
    assert.deepEqual(ids(pending), [events.held]);
    assert.equal(pending.deliveries[0].state, 'pending');
    assert.equal(pending.deliveries[0].attempts, 0);
    assert.notEqual(pending.deliveries[0].next_attempt_at, null);

    const dead = ok(await list('&state=dead_lettered'));
    assert.deepEqual(ids(dead), [events.dead]);
    assert.equal(dead.deliveries[0].last_error, 'HTTP 500');
    assert.equal(dead.deliveries[0].next_attempt_at, null);

    // Several states at once, and one endpoint's only.
    assert.deepEqual(ok(await list('&state=pending,retrying')).deliveries.length, 2);
    assert.deepEqual(
      ids(ok(await list(`&endpoint_id=${failingId}`))).sort(),
      [events.dead, events.retrying].sort(),
    );
    assert.equal(ok(await list('')).deliveries.length, 5);
  });

  it('pages newest first with next_cursor until null', async () => {
    const first = ok(await list('&state=delivered&limit=1'));
    assert.deepEqual(ids(first), [events.delivered2]);
    assert.equal(typeof first.next_cursor, 'string');
    const second = ok(await list(`&state=delivered&limit=1&cursor=${first.next_cursor}`));
    assert.deepEqual(ids(second), [events.delivered1]);
    assert.equal(second.deliveries[0].state, 'delivered');
    assert.equal(second.next_cursor, null);
    const all = ok(await list('&limit=2'));
    const rest = ok(await list(`&limit=2&cursor=${all.next_cursor}`));
    const last = ok(await list(`&limit=2&cursor=${rest.next_cursor}`));
    assert.equal(last.next_cursor, null);
    assert.equal(new Set([...ids(all), ...ids(rest), ...ids(last)]).size, 5);
  });

  it('needs the admin token, and names a bad state, limit or cursor', async () => {
    assert.equal((await list('', { userAgent: 'ops' })).status, 401);
    assert.equal((await list('', { token: 'not-the-token', userAgent: 'ops' })).status, 401);
    for (const [query, field] of [
      ['&state=stuck', 'state'],
      ['&state=pending,', 'state'],
      ['&limit=0', 'limit'],
      ['&cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ]) {
      const bad = await list(query!);
      assert.equal(bad.status, 400, `${query}: ${JSON.stringify(bad.body)}`);
      assert.equal(bad.body.error, 'invalid_request');
      assert.match(bad.body.message, new RegExp(field!));
    }
  });

  it('a replay of a delivery still retrying says already_pending with its next attempt; send_now tries it now', async () => {
    const deliveryId = `${events.retrying}:${failingId}`;
    const entry = await webhookQueue(h.db).findOne({ _id: deliveryId });
    assert.ok(entry, 'still queued');
    const replayed = ok(
      await call(h.apiUrl, 'POST', '/admin/v1/webhooks/replay', {
        ...admin(),
        body: { event_ids: [events.retrying] },
      }),
    );
    assertResponseMatches('POST', '/admin/v1/webhooks/replay', replayed);
    assert.equal(replayed.deliveries[0].replay, 'already_pending');
    assert.equal(replayed.deliveries[0].next_attempt_at, entry.due_at.toISOString());

    // A dry run says the same.
    const dry = ok(
      await call(h.apiUrl, 'POST', '/admin/v1/webhooks/replay', {
        ...admin(),
        body: { event_ids: [events.retrying], dry_run: true },
      }),
    );
    assert.equal(dry.deliveries[0].replay, 'already_pending');

    const before = failing.received.length;
    const now = ok(
      await call(h.apiUrl, 'POST', '/admin/v1/webhooks/replay', {
        ...admin(),
        body: { event_ids: [events.retrying], send_now: true },
      }),
    );
    assert.equal(now.deliveries[0].replay, 'retry_now');
    assert.ok(Date.parse(now.deliveries[0].next_attempt_at) <= Date.now());
    // At once if the endpoint's drain sleeps; this one is awake (quiet for 30 s, then it looks again).
    await failing.waitFor(before + 1, 45_000);
    const after = await h.waitForDelivery(deliveryId, (d) => d.attempts === 2);
    assert.equal(after.status, 'pending');
  });
});
