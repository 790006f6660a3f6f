import assert from 'node:assert/strict';
import { createMaintenanceActivities } from '../../activities/maintenance';
import type { Logger } from '../../src/logger';
import { collectionNames } from '../../src/mongo/collections';
import type { WorkflowStarter } from '../../src/temporal/starter';
import { notify } from '../../src/webhooks/notify';
import type { WebhookPublisherDeps } from '../../src/webhooks/publish';
import { registerPlugin } from '../helpers/plugin-client';
import { type Harness, webhookHarness } from './harness';
import { type Receiver, startReceiver } from './receiver';

// Issue 11: an operator's webhook is stored before Temporal is asked for anything, so an outage of
// Temporal delays it (the maintenance sweep sends it) instead of losing it.

describe('notify(): operator webhooks survive a Temporal outage', function () {
  this.timeout(60_000);
  let h: Harness;
  let site: Receiver;
  const logged: string[] = [];
  const log = {
    warn: (_: unknown, message: string) => void logged.push(message),
    error: (_: unknown, message: string) => void logged.push(message),
  } as unknown as Pick<Logger, 'warn' | 'error'>;

  before(async () => {
    h = await webhookHarness({ isolatedDb: true });
    site = await startReceiver();
  });
  after(async () => {
    await site.close();
    await h.stop();
  });

  /** The publisher as it is while Temporal cannot be reached. */
  const temporalDown = (): WebhookPublisherDeps => {
    const down = () => Promise.reject(new Error('14 UNAVAILABLE: Temporal is down'));
    const workflows: WorkflowStarter = { ...h.publisher.workflows, start: down, signalWithStart: down };
    return { ...h.publisher, workflows };
  };
  const sweep = () =>
    createMaintenanceActivities({
      db: h.db,
      workflows: h.publisher.workflows,
      config: h.config,
      ledger: undefined as never,
    }).restartStrandedDeliveries({ older_than_ms: 0 });

  it('an event to one instance is stored, and sent by the sweep once Temporal is back', async () => {
    const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
    const result = await notify(temporalDown(), log, {
      to: 'instance',
      instance_id: plugin.instance_id,
      event: 'plugin_disabled',
      data: { reason: 'unpaid invoice', disabled_at: new Date().toISOString() },
    });
    assert.ok(result && 'event_id' in result, JSON.stringify(result));
    assert.equal(result.sent, 'after_outage');
    assert.ok(logged.includes('webhook stored; sent after the outage'), logged.join(', '));
    assert.equal(site.received.length, 0, 'nothing sent while Temporal is down');

    assert.ok((await sweep()) >= 1);
    const [webhook] = await site.waitFor(1, 20_000, (w) => w.json?.id === result.event_id);
    assert.equal(webhook!.json.event, 'plugin_disabled');
  });

  it('a broadcast is stored as a request, and started by the sweep once Temporal is back', async () => {
    const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
    const result = await notify(temporalDown(), log, {
      to: 'broadcast',
      event: 'package_updated',
      data: { package_id: 'pkg_outage' },
      instance_ids: [plugin.instance_id],
    });
    assert.ok(result && 'broadcast_id' in result, JSON.stringify(result));
    assert.equal(result.sent, 'after_outage');
    const stored = await h.db
      .collection(collectionNames.webhookBroadcasts)
      .findOne({ _id: result.broadcast_id as never });
    assert.equal(stored?.started, false);

    assert.ok((await sweep()) >= 1);
    await site.waitFor(1, 20_000, (w) => w.json?.data?.package_id === 'pkg_outage');
    const started = await h.db
      .collection(collectionNames.webhookBroadcasts)
      .findOne({ _id: result.broadcast_id as never });
    assert.equal(started?.started, true);
    // A second sweep starts nothing again.
    await sweep();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(site.received.filter((w) => w.json?.data?.package_id === 'pkg_outage').length, 1);
  });
});
