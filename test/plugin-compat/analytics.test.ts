import assert from 'node:assert/strict';
import { collectionNames } from '../../src/mongo/collections';
import { stack, startTestApi } from '../helpers/env';
import { asPlugin, type Credentials, registerPlugin } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';

// The plugin's analytics calls, includes/class-rakubun-ai-external-api.php:
// - log_generation(): one generation, user_id/result_length/credits_used through intval, the
//   timestamp from current_time('mysql');
// - send_analytics(): the hourly sync, rows straight from $wpdb->get_results, so every value is a
//   string, prompt may be null, and overlapping hours are sent again.
// Both are treated as successful only with `success: true`.

const userAgent = 'Rakubun-WordPress-Plugin/1.0.0';

describe('plugin compat: log_generation() and send_analytics()', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.stop());

  const site = async (): Promise<Credentials> =>
    registerPlugin(api.url, { timezone: 'Asia/Tokyo', site_url: 'https://blog.example.jp' });
  const generations = async (instanceId: string) => {
    const { db } = await stack();
    return db.collection(collectionNames.generationEvents).find({ instance_id: instanceId }).toArray();
  };

  describe('log_generation()', () => {
    const logged = (overrides: Record<string, unknown> = {}) => ({
      user_id: 5,
      user_email: 'writer@blog.example.jp',
      site_url: 'https://blog.example.jp',
      content_type: 'article',
      prompt: '京都の紅葉についての記事',
      result_length: 2400,
      credits_used: 1,
      timestamp: '2025-11-06 10:00:00',
      ...overrides,
    });

    it('answers 200 {success, accepted} and stores the generation with its site-local time', async () => {
      const plugin = await site();
      const post = asPlugin(api.url, plugin);
      const result = await post('POST', '/api/v1/analytics/generation', { userAgent, body: logged() });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.equal(result.body.success, true);
      assert.equal(result.body.accepted, 1);
      assertResponseMatches('POST', '/api/v1/analytics/generation', result.body);

      const [stored, ...others] = await generations(plugin.instance_id);
      assert.equal(others.length, 0);
      assert.equal(stored?.user_id, '5');
      assert.equal(stored?.credit_type, 'article');
      assert.equal(stored?.prompt, '京都の紅葉についての記事');
      assert.equal(stored?.result_length, 2400);
      assert.equal(stored?.credits_used, 1);
      assert.equal((stored?.occurred_at as Date | undefined)?.toISOString(), '2025-11-06T01:00:00.000Z');

      const again = await post('POST', '/api/v1/analytics/generation', { userAgent, body: logged() });
      assert.deepEqual(again.body, { success: true, accepted: 0 }, 'the same report twice is one generation');
    });

    it('keeps at most 500 characters of a prompt and takes credit_type for content_type', async () => {
      const plugin = await site();
      const post = asPlugin(api.url, plugin);
      const long = await post('POST', '/api/v1/analytics/generation', {
        userAgent,
        body: logged({ prompt: `${'あ'.repeat(499)}😀${'x'.repeat(300)}`, content_type: 'image' }),
      });
      assert.equal(long.status, 200, JSON.stringify(long.body));
      const synonym = await post('POST', '/api/v1/analytics/generation', {
        userAgent,
        body: logged({ content_type: undefined, credit_type: 'rewrite', timestamp: '2025-11-06 10:01:00' }),
      });
      assert.equal(synonym.status, 200, JSON.stringify(synonym.body));
      const stored = await generations(plugin.instance_id);
      const image = stored.find((doc) => doc.credit_type === 'image');
      const prompt = String(image?.prompt ?? '');
      assert.equal(Array.from(prompt).length, 500);
      assert.ok(prompt.endsWith('😀'), 'no character is split');
      assert.ok(stored.some((doc) => doc.credit_type === 'rewrite'));
    });

    it('400 invalid_request names the bad fields; one of content_type and credit_type is required', async () => {
      const plugin = await site();
      const post = asPlugin(api.url, plugin);
      const missing = await post('POST', '/api/v1/analytics/generation', {
        body: logged({ content_type: undefined, user_email: undefined }),
      });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error, 'invalid_request');
      assert.match(missing.body.message, /Missing required fields: .*content_type/);
      assert.match(missing.body.message, /user_email/);
      const wrong = await post('POST', '/api/v1/analytics/generation', {
        body: logged({ content_type: 'video', credits_used: -1 }),
      });
      assert.equal(wrong.status, 400);
      assert.match(wrong.body.message, /content_type/);
      assert.match(wrong.body.message, /credits_used/);
      assert.equal((await generations(plugin.instance_id)).length, 0);
    });
  });

  describe('send_analytics()', () => {
    /** A row of the plugin's generations table as $wpdb->get_results gives it: all strings. */
    const generationRow = (i: number, overrides: Record<string, unknown> = {}) => ({
      user_id: String(1 + (i % 3)),
      content_type: ['article', 'image', 'rewrite'][i % 3],
      prompt: i % 4 === 0 ? null : `prompt ${i}`,
      result_length: String(1000 + i),
      created_at: `2025-11-06 ${String(9 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00`,
      ...overrides,
    });
    const transactionRow = (i: number) => ({
      user_id: String(1 + (i % 3)),
      transaction_type: i % 2 === 0 ? 'deduct' : 'purchase',
      credit_type: 'article',
      amount: String(i % 2 === 0 ? 1 : 10),
      created_at: `2025-11-06 09:${String(i % 60).padStart(2, '0')}:30`,
    });
    const sync = (
      plugin: Credentials,
      from: string,
      to: string,
      rows: Record<string, unknown>[],
      transactions: Record<string, unknown>[],
    ) => ({
      site_url: 'https://blog.example.jp',
      instance_id: plugin.instance_id,
      sync_period: { from, to },
      generations: rows,
      transactions,
      total_users: '7',
      plugin_version: '1.0.0',
    });

    it('stores each row once when overlapping hours are sent again', async () => {
      const plugin = await site();
      const post = asPlugin(api.url, plugin);
      const first = await post('POST', '/api/v1/analytics/usage', {
        userAgent,
        body: sync(
          plugin,
          '2025-11-06 09:00:00',
          '2025-11-06 10:00:00',
          [0, 1, 2, 3].map((i) => generationRow(i)),
          [0, 1].map(transactionRow),
        ),
      });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.success, true);
      assert.equal(first.body.accepted, 4);
      assertResponseMatches('POST', '/api/v1/analytics/usage', first.body);

      // The next hour's sync starts half an hour back: rows 2 and 3 come again, with 4 and 5 new.
      const second = await post('POST', '/api/v1/analytics/usage', {
        userAgent,
        body: sync(
          plugin,
          '2025-11-06 09:30:00',
          '2025-11-06 10:30:00',
          [2, 3, 4, 5].map((i) => generationRow(i)),
          [1, 2].map(transactionRow),
        ),
      });
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.equal(second.body.accepted, 2);
      assert.equal(second.body.transactions_accepted, 1);
      assertResponseMatches('POST', '/api/v1/analytics/usage', second.body);

      // The same hour once more, integers instead of strings this time: nothing new.
      const third = await post('POST', '/api/v1/analytics/usage', {
        userAgent,
        body: sync(
          plugin,
          '2025-11-06 09:30:00',
          '2025-11-06 10:30:00',
          [2, 3, 4, 5].map((i) => ({ ...generationRow(i), user_id: 1 + (i % 3), result_length: 1000 + i })),
          [],
        ),
      });
      assert.equal(third.body.accepted, 0);

      const { db } = await stack();
      const stored = await generations(plugin.instance_id);
      assert.equal(stored.length, 6, 'six distinct generations');
      assert.equal(stored.filter((doc) => doc.prompt === null).length, 2, 'rows 0 and 4 had no prompt');
      const row1 = stored.find((doc) => doc.prompt === 'prompt 1');
      assert.equal(row1?.result_length, 1001);
      assert.equal(row1?.user_id, '2');
      assert.equal((row1?.occurred_at as Date | undefined)?.toISOString(), '2025-11-06T00:01:00.000Z');
      assert.equal(
        await db
          .collection(collectionNames.analyticsTransactions)
          .countDocuments({ instance_id: plugin.instance_id }),
        3,
      );
      const summaries = await db
        .collection(collectionNames.analyticsSyncs)
        .find({ instance_id: plugin.instance_id })
        .toArray();
      assert.equal(summaries.length, 2, 'one summary per period');
      assert.ok(
        summaries.every((summary) => summary.total_users === 7 && summary.plugin_version === '1.0.0'),
      );
    });

    it('a generation reported live and then in the sync is stored once', async () => {
      const plugin = await site();
      const post = asPlugin(api.url, plugin);
      const live = await post('POST', '/api/v1/analytics/generation', {
        userAgent,
        body: {
          user_id: 2,
          user_email: 'two@blog.example.jp',
          site_url: 'https://blog.example.jp',
          content_type: 'image',
          prompt: 'prompt 1',
          result_length: 1001,
          credits_used: 1,
          timestamp: '2025-11-06 09:01:00',
        },
      });
      assert.equal(live.body.accepted, 1);
      const synced = await post('POST', '/api/v1/analytics/usage', {
        userAgent,
        body: sync(plugin, '2025-11-06 09:00:00', '2025-11-06 10:00:00', [generationRow(1)], []),
      });
      assert.equal(synced.body.accepted, 0);
      assert.equal((await generations(plugin.instance_id)).length, 1);
    });

    it('takes empty (or null) arrays, and a full sync of 200 generations and 100 transactions', async () => {
      const plugin = await site();
      const post = asPlugin(api.url, plugin);
      const empty = await post('POST', '/api/v1/analytics/usage', {
        userAgent,
        body: sync(plugin, '2025-11-06 08:00:00', '2025-11-06 09:00:00', [], []),
      });
      assert.equal(empty.status, 200, JSON.stringify(empty.body));
      assert.deepEqual(empty.body, { success: true, accepted: 0, transactions_accepted: 0 });
      const nulls = await post('POST', '/api/v1/analytics/usage', {
        userAgent,
        body: { ...sync(plugin, '2025-11-06 08:00:00', '2025-11-06 09:00:00', [], []), transactions: null },
      });
      assert.equal(nulls.status, 200, JSON.stringify(nulls.body));

      const full = await post('POST', '/api/v1/analytics/usage', {
        userAgent,
        body: sync(
          plugin,
          '2025-11-06 09:00:00',
          '2025-11-06 13:00:00',
          Array.from({ length: 200 }, (_, i) => generationRow(i)),
          Array.from({ length: 100 }, (_, i) => ({ ...transactionRow(i), user_id: String(i) })),
        ),
      });
      assert.equal(full.status, 200, JSON.stringify(full.body));
      assert.equal(full.body.accepted, 200);
      assert.equal(full.body.transactions_accepted, 100);
      assertResponseMatches('POST', '/api/v1/analytics/usage', full.body);
    });

    it('a batch with one bad row is refused whole, naming the row and field', async () => {
      const plugin = await site();
      const post = asPlugin(api.url, plugin);
      const rows = [0, 1, 2].map((i) => generationRow(i));
      rows[1] = generationRow(1, { content_type: 'video', created_at: undefined });
      const transactions = [transactionRow(0), { ...transactionRow(1), amount: 'ten' }];
      const result = await post('POST', '/api/v1/analytics/usage', {
        userAgent,
        body: sync(plugin, '2025-11-06 09:00:00', '2025-11-06 10:00:00', rows, transactions),
      });
      assert.equal(result.status, 400);
      assert.equal(result.body.error, 'invalid_request');
      assert.match(result.body.message, /generations\.1\.created_at/);
      assert.match(result.body.message, /generations\.1\.content_type/);
      assert.match(result.body.message, /transactions\.1\.amount/);
      assert.equal((await generations(plugin.instance_id)).length, 0, 'nothing stored');
      const { db } = await stack();
      assert.equal(
        await db
          .collection(collectionNames.analyticsTransactions)
          .countDocuments({ instance_id: plugin.instance_id }),
        0,
      );
    });
  });
});
