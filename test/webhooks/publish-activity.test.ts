import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createWebhookActivities } from '../../activities/webhooks';
import { createLogger } from '../../src/logger';
import { assembleServices } from '../../src/services';
import type { PublishResult } from '../../src/webhooks/publish';
import { stack } from '../helpers/env';
import { registerPlugin } from '../helpers/plugin-client';
import { type Harness, webhookHarness } from './harness';
import { startReceiver } from './receiver';

describe('publishWebhookEvent activity (for the purchase and ledger workflows)', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await webhookHarness();
  });
  after(() => h.stop());

  // The mock environment logs a failing activity at error level; the failure here is the point.
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const environment = (activityId: string) =>
    new MockActivityEnvironment(
      { activityId, workflowExecution: { workflowId: 'purchase:pur_1', runId: 'run-1' } },
      { client: h.temporal.client, logger: quiet },
    );

  it('publishes once per calling activity, however often it is retried', async () => {
    const site = await startReceiver();
    try {
      const plugin = await registerPlugin(h.apiUrl, { site_url: site.url });
      const activities = createWebhookActivities(
        assembleServices({
          config: h.config,
          db: h.db,
          logger: createLogger({ level: 'silent', name: 't' }),
          temporal: (await stack()).temporal,
        }),
      );
      const input = {
        instance_id: plugin.instance_id,
        event: 'credits_updated' as const,
        data: {
          user_id: 9,
          user_email: 'u@example.jp',
          credits: { image: 50 },
          delta: 50,
          reason: 'purchase',
          ledger_seq: 4,
        },
      };
      const first: PublishResult = await environment('5').run(activities.publishWebhookEvent, input);
      const retried: PublishResult = await environment('5').run(activities.publishWebhookEvent, input);
      assert.equal(retried.event_id, first.event_id);
      assert.equal(first.created, true);
      assert.equal(retried.created, false);
      const other: PublishResult = await environment('6').run(activities.publishWebhookEvent, input);
      assert.notEqual(other.event_id, first.event_id, 'another activity is another event');

      await site.waitFor(2);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(site.received.map((w) => w.json.id).sort(), [first.event_id, other.event_id].sort());

      await assert.rejects(
        environment('7').run(activities.publishWebhookEvent, { ...input, instance_id: 'no-such-instance' }),
        (error: unknown) => error instanceof ApplicationFailure && error.nonRetryable === true,
      );
    } finally {
      await site.close();
    }
  });
});
