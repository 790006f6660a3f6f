import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { MongoClient } from 'mongodb';
import { createApp } from '../../src/http/app';
import { createLedger } from '../../src/ledger/ledger';
import { createLogger } from '../../src/logger';
import { assembleServices } from '../../src/services';
import { stack, testConfig } from '../helpers/env';
import { asPlugin, registerPlugin } from '../helpers/plugin-client';

// The hot paths' database work per request, counted with the driver's command monitoring: it must
// stay constant whatever the traffic (no count per request, no document per request) and small.

describe('database work per request', () => {
  it('a warm GET /users/credits is one command, a deduction about one insert', async () => {
    const { temporal } = await stack();
    const config = testConfig({ RATE_LIMIT_PER_MINUTE: '100000' });
    const client = new MongoClient(config.MONGODB_URL, { monitorCommands: true });
    const db = client.db(config.MONGODB_DATABASE);
    const commands: string[] = [];
    client.on('commandStarted', (event) => commands.push(event.commandName));
    const app = createApp(
      assembleServices({
        config,
        logger: createLogger({ level: 'silent', name: 't' }),
        db,
        temporal,
        stripe: undefined,
      }),
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const plugin = await registerPlugin(url);
      const asSite = asPlugin(url, plugin);
      await createLedger({ db, creditTypes: config.CREDIT_TYPES }).grant({
        instance_id: plugin.instance_id,
        user_id: 7,
        credit_type: 'article',
        amount: 1_000,
      });
      const read = () => asSite('GET', '/api/v1/users/credits?user_id=7&user_email=u7%40example.jp');
      const deduct = () =>
        asSite('POST', '/api/v1/users/deduct-credits', {
          body: { user_id: 7, user_email: 'u7@example.jp', credit_type: 'article', amount: 1 },
        });
      assert.equal((await read()).status, 200); // warms the instance, the account and the limiter
      commands.length = 0;
      for (let i = 0; i < 40; i += 1) assert.equal((await read()).status, 200);
      const perRead = commands.length / 40;
      assert.ok(perRead <= 1.25, `${perRead} commands per read: ${[...new Set(commands)]}`);
      assert.ok(commands.filter((name) => name === 'find').length >= 40, 'each read queries the ledger');

      commands.length = 0;
      for (let i = 0; i < 40; i += 1) assert.equal((await deduct()).status, 200);
      const inserts = commands.filter((name) => name === 'insert').length;
      assert.equal(inserts, 40, 'one ledger entry per deduction');
      const perDeduct = commands.length / 40;
      assert.ok(perDeduct <= 1.6, `${perDeduct} commands per deduction: ${[...new Set(commands)]}`);
      const final = await read();
      assert.equal(final.body.credits.article_credits, 960);
    } finally {
      server.closeAllConnections();
      server.close();
      await client.close();
    }
  });
});
