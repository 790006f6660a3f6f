import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../../src/http/openapi';
import {
  broadcastEvents,
  checkEventData,
  supersedeOrder,
  webhookEventTypes,
} from '../../src/webhooks/catalogue';
import { InvalidEventDataError, publishEvent } from '../../src/webhooks/publish';
import { stack } from '../helpers/env';
import { declaredRoutes } from '../helpers/routes';
import { pluginEvents } from '../plugin-compat/plugin-webhook-handler';

// The webhook event catalogue (src/webhooks/catalogue.ts) is the one list of events: the plugin must
// know each name, and the OpenAPI document and the README table are checked against it.

describe('webhook event catalogue', () => {
  it('names only events the plugin handles (its handler answers 400 to any other)', () => {
    assert.deepEqual([...webhookEventTypes].sort(), [...pluginEvents].sort());
  });

  it('is the OpenAPI `webhooks` section and the README table, event for event', () => {
    const document = openApiDocument({ PUBLIC_BASE_URL: 'http://localhost:3000' }, declaredRoutes());
    assert.deepEqual(Object.keys(document.webhooks).sort(), [...webhookEventTypes].sort());
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| event '), readme.indexOf('**Retry schedule.**'));
    const listed = [...table.matchAll(/^\| `(\w+)`/gm)].map((match) => match[1]);
    assert.deepEqual([...listed].sort(), [...webhookEventTypes].sort());
  });

  it('says which events broadcast and which supersede older ones', () => {
    assert.deepEqual([...broadcastEvents].sort(), [
      'config_updated',
      'package_updated',
      'plugin_disabled',
      'plugin_enabled',
    ]);
    assert.deepEqual(
      supersedeOrder({ event_type: 'credits_updated', data: { user_id: 7, ledger_seq: 12 } }),
      {
        key: 'credits:7',
        rank: 12,
      },
    );
    assert.equal(supersedeOrder({ event_type: 'config_updated', data: { key: 'x' } }), undefined);
  });

  it('refuses to publish data that does not have the event shape, before anything is stored', async () => {
    assert.match(checkEventData('plugin_disabled', { reason: 1 }) ?? '', /plugin_disabled data: reason/);
    assert.equal(
      checkEventData('credits_updated', {
        user_id: 1,
        user_email: 'a@example.jp',
        credits: {},
        delta: 1,
        reason: 'x',
        ledger_seq: 1,
      }),
      undefined,
    );
    const { db, temporal } = await stack();
    await assert.rejects(
      publishEvent(
        { db, workflows: { client: temporal.client } as never, config: {} as never },
        { instance_id: 'nobody', event: 'credits_updated', data: { user_id: 1 } },
      ),
      InvalidEventDataError,
    );
  });
});
