import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { rateLimit } from '../../src/http/middleware/rate-limit';
import { createMongo } from '../../src/mongo/client';
import { stack, startTestApi, testConfig } from '../helpers/env';
import { asPlugin, call, registerPlugin } from '../helpers/plugin-client';

describe('HTTP contract: errors, limits, HTTPS', () => {
  let api: Awaited<ReturnType<typeof startTestApi>>;
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.stop());

  it('broken JSON is 400 invalid_json; an oversize body is 413; both carry X-Request-ID', async () => {
    const broken = await call(api.url, 'POST', '/api/v1/plugins/register', { body: '{"instance_id": ' });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error, 'invalid_json');
    assert.match(broken.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);

    const huge = await call(api.url, 'POST', '/api/v1/plugins/register', {
      body: JSON.stringify({ instance_id: 'x'.repeat(1024 * 1024 + 10) }),
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error, 'payload_too_large');
  });

  it('unknown routes are 404 in the error shape', async () => {
    const result = await call(api.url, 'GET', '/api/v1/nope');
    assert.equal(result.status, 404);
    assert.deepEqual(Object.keys(result.body).sort(), ['error', 'message', 'success']);
  });

  it('TRACE and methods nobody knows are 405 in the error shape, like a known method a route lacks', async () => {
    // fetch refuses to send TRACE, so a plain request.
    const raw = (method: string, path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(`${api.url}${path}`, { method }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const method of ['TRACE', 'PURGE', 'DELETE']) {
      const result = await raw(method, '/api/v1/plugins/register');
      assert.equal(result.status, 405, `${method}: ${result.status} ${result.body}`);
      const body = JSON.parse(result.body);
      assert.equal(body.success, false);
      assert.equal(body.error, 'method_not_allowed');
    }
  });

  it('the per-instance limit trips at the limit with Retry-After and RateLimit-* headers', async () => {
    const limited = await startTestApi({ RATE_LIMIT_PER_MINUTE: '5' });
    try {
      const a = await registerPlugin(limited.url);
      const other = await registerPlugin(limited.url);
      const plugin = asPlugin(limited.url, a);
      // Keep all six calls inside one minute window.
      const leftInWindow = 60_000 - (Date.now() % 60_000);
      if (leftInWindow < 5_000) await new Promise((resolve) => setTimeout(resolve, leftInWindow + 50));
      const statuses: number[] = [];
      let last = await plugin('GET', `/api/v1/instances/${a.instance_id}`);
      statuses.push(last.status);
      assert.equal(last.headers.get('ratelimit-limit'), '5');
      assert.equal(last.headers.get('ratelimit-remaining'), '4');
      for (let i = 0; i < 5; i += 1) {
        last = await plugin('GET', `/api/v1/instances/${a.instance_id}`);
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
      assert.equal(last.body.error, 'rate_limited');
      assert.ok(Number(last.headers.get('retry-after')) >= 1);
      assert.equal(last.headers.get('ratelimit-remaining'), '0');
      // Another instance has its own budget.
      assert.equal(
        (await asPlugin(limited.url, other)('GET', `/api/v1/instances/${other.instance_id}`)).status,
        200,
      );
    } finally {
      await limited.stop();
    }
  });

  /** Two apps with a MongoDB connection each: two API processes sharing one limit. */
  async function twoLimitedProcesses(limit: number, windowMs: number) {
    await stack();
    const key = `test:${randomUUID()}`;
    const processes = [0, 1].map(() => {
      const mongo = createMongo(testConfig());
      const app = new Koa();
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (error) {
          ctx.status = (error as { status: number }).status;
        }
      });
      app.use(rateLimit(mongo.db, limit, () => key, windowMs));
      app.use((ctx) => {
        ctx.body = 'ok';
      });
      return { mongo, server: app.listen(0, '127.0.0.1') };
    });
    await Promise.all(processes.map(({ server }) => once(server, 'listening')));
    const urls = processes.map(({ server }) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return {
      /** `count` requests alternating between the processes, 25 at a time; their statuses. */
      async burst(count: number): Promise<number[]> {
        const statuses: number[] = [];
        let sent = 0;
        await Promise.all(
          Array.from({ length: 25 }, async () => {
            while (sent < count) {
              const url = urls[sent++ % 2]!;
              statuses.push((await fetch(url)).status);
            }
          }),
        );
        return statuses;
      },
      async close() {
        for (const { mongo, server } of processes) {
          server.close();
          await mongo.client.close();
        }
      },
    };
  }
  const admitted = (statuses: number[]) => statuses.filter((s) => s === 200).length;
  const nextWindow = (windowMs: number) =>
    new Promise((resolve) => setTimeout(resolve, windowMs - (Date.now() % windowMs) + 50));

  it('the limiter counts exactly across two API processes racing, and resets with the window', async () => {
    const windowMs = 2_000;
    const limited = await twoLimitedProcesses(10, windowMs);
    try {
      // Start just after a window boundary so the burst stays inside one window.
      await nextWindow(windowMs);
      const first = await limited.burst(60);
      assert.equal(admitted(first), 10, `statuses ${first}`);
      assert.equal(first.filter((s) => s === 429).length, 50);
      await nextWindow(windowMs);
      assert.equal(admitted(await limited.burst(60)), 10, 'a new window has a fresh budget');
    } finally {
      await limited.close();
    }
  });

  it('a high limit is claimed in blocks, and still admits exactly the limit across processes', async () => {
    const windowMs = 6_000;
    const limited = await twoLimitedProcesses(300, windowMs);
    try {
      await nextWindow(windowMs);
      const statuses = await limited.burst(900);
      assert.equal(admitted(statuses), 300);
      assert.equal(statuses.length, 900);
      assert.ok(statuses.every((s) => s === 200 || s === 429));
    } finally {
      await limited.close();
    }
  });

  it('processes that come and go within a window do not strand the limit', async () => {
    // Forty short-lived API processes (as a test suite or a rolling restart makes) each serve two
    // requests under one shared key: every request fits in a limit of 1,000.
    const { db } = await stack();
    const key = `test:${randomUUID()}`;
    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      const limiter = rateLimit(db, 1_000, () => key);
      for (let j = 0; j < 2; j += 1) {
        const ctx = { set: () => {}, path: '/' } as unknown as Parameters<typeof limiter>[0];
        statuses.push(
          await limiter(ctx, async () => {}).then(
            () => 200,
            (error: { status: number }) => error.status,
          ),
        );
      }
    }
    assert.equal(statuses.filter((s) => s === 200).length, 80, `statuses ${statuses}`);
  });

  it('REQUIRE_HTTPS refuses plain HTTP; X-Forwarded-Proto counts only with TRUST_PROXY', async () => {
    const strict = await startTestApi({ REQUIRE_HTTPS: 'true' });
    const proxied = await startTestApi({ REQUIRE_HTTPS: 'true', TRUST_PROXY: 'true' });
    try {
      const plain = await call(strict.url, 'GET', '/api/v1/packages');
      assert.equal(plain.status, 403);
      assert.equal(plain.body.error, 'https_required');
      const spoofed = await call(strict.url, 'GET', '/api/v1/nope', {
        headers: { 'X-Forwarded-Proto': 'https' },
      });
      assert.equal(spoofed.body.error, 'https_required', 'untrusted proxy header ignored');
      const behindProxy = await call(proxied.url, 'GET', '/api/v1/nope', {
        headers: { 'X-Forwarded-Proto': 'https' },
      });
      assert.equal(behindProxy.body.error, 'not_found', 'passes the HTTPS check');
      assert.equal((await call(strict.url, 'GET', '/health')).status, 200, 'health stays open');
    } finally {
      await strict.stop();
      await proxied.stop();
    }
  });
});
