import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, operatorTokens } from '../src/config';

describe('configuration', () => {
  it('applies the documented defaults when nothing is set', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 3000);
    assert.equal(config.RATE_LIMIT_PER_MINUTE, 100);
    assert.equal(config.TOKEN_ROTATION_GRACE_SECONDS, 3600);
    assert.equal(config.WEBHOOK_ALLOW_PRIVATE_NETWORKS, false);
    assert.deepEqual(config.ALLOWED_USER_AGENTS, ['Rakubun-WordPress-Plugin/', 'WordPress/']);
    assert.deepEqual(config.CREDIT_TYPES, ['article', 'image', 'rewrite']);
  });

  it('names every bad value, and never echoes a secret', () => {
    assert.throws(
      () => loadConfig({ PORT: '70000', RATE_LIMIT_PER_MINUTE: 'lots', ADMIN_API_TOKEN: 'short-secret' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /PORT: expected a TCP port/);
        assert.match(error.message, /RATE_LIMIT_PER_MINUTE: expected a positive integer \(got "lots"\)/);
        assert.match(error.message, /ADMIN_API_TOKEN: expected at least 32 characters/);
        assert.doesNotMatch(error.message, /short-secret/);
        return true;
      },
    );
  });

  it('reads named operator tokens (ADMIN_API_TOKENS) and ADMIN_API_TOKEN as the operator admin', () => {
    const admin = 'a'.repeat(40);
    const alice = 'b'.repeat(32);
    const bob = 'c'.repeat(48);
    const config = loadConfig({ ADMIN_API_TOKEN: admin, ADMIN_API_TOKENS: ` alice:${alice}, bob_2:${bob} ` });
    assert.deepEqual(operatorTokens(config), [
      { operator: 'admin', token: admin },
      { operator: 'alice', token: alice },
      { operator: 'bob_2', token: bob },
    ]);
    assert.deepEqual(operatorTokens(loadConfig({ ADMIN_API_TOKENS: `alice:${alice}` })), [
      { operator: 'alice', token: alice },
    ]);
  });

  it('refuses a malformed ADMIN_API_TOKENS, naming the operator and never a token', () => {
    const long = (c: string) => c.repeat(40);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ ADMIN_API_TOKENS: long('x') }, /ADMIN_API_TOKENS: entry 1: expected name:token/],
      [{ ADMIN_API_TOKENS: `Alice:${long('x')}` }, /ADMIN_API_TOKENS: entry 1: expected name:token/],
      [{ ADMIN_API_TOKENS: `alice:${long('y')},:${long('x')}` }, /entry 2: expected name:token/],
      [{ ADMIN_API_TOKENS: 'alice:short-xxxx' }, /ADMIN_API_TOKENS: alice: expected a token of at least 32/],
      [{ ADMIN_API_TOKENS: `alice:${long('x')} ${long('x')}` }, /alice: expected a token .* without spaces/],
      [{ ADMIN_API_TOKENS: `alice:${long('x')},alice:${long('y')}` }, /ADMIN_API_TOKENS: alice: named twice/],
      [
        { ADMIN_API_TOKENS: `alice:${long('x')},bob:${long('x')}` },
        /ADMIN_API_TOKENS: bob: the same token as another operator/,
      ],
      [{ ADMIN_API_TOKENS: ' , ' }, /ADMIN_API_TOKENS: expected name:token pairs/],
      [
        { ADMIN_API_TOKEN: long('x'), ADMIN_API_TOKENS: `admin:${long('y')}` },
        /ADMIN_API_TOKENS: admin is ADMIN_API_TOKEN's operator/,
      ],
      [
        { ADMIN_API_TOKEN: long('x'), ADMIN_API_TOKENS: `carol:${long('x')}` },
        /ADMIN_API_TOKENS: carol: the same token as ADMIN_API_TOKEN/,
      ],
      [{ METRICS_TOKEN: 'short-metrics' }, /METRICS_TOKEN: expected at least 32 characters/],
      [{ WORKER_METRICS_PORT: '99999' }, /WORKER_METRICS_PORT: expected a TCP port/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, String(error));
          assert.match(error.message, message);
          for (const secret of [long('x'), long('y'), 'short-xxxx', 'short-metrics']) {
            assert.ok(!error.message.includes(secret), `${error.message} shows a token`);
          }
          return true;
        },
        JSON.stringify(Object.keys(env)),
      );
    }
  });

  it('stops the API process at start-up with a message naming the bad variable', () => {
    const root = join(__dirname, '..');
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'main', 'api.ts')], {
      cwd: root,
      env: { ...process.env, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'maybe' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(result.status, 78);
    assert.match(result.stderr, /WEBHOOK_ALLOW_PRIVATE_NETWORKS: expected true or false/);
  });
});

describe('local stack bootstrap', () => {
  it('without Go, stops with a message that says so and points to docker compose', () => {
    const root = join(__dirname, '..');
    const emptyStack = mkdtempSync(join(tmpdir(), 'rakubun-nogo-'));
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'tools', 'stack', 'cli.ts')], {
      cwd: root,
      // No Go on the PATH, and no binaries built yet in this stack folder.
      env: { ...process.env, PATH: '/usr/bin:/bin', RAKUBUN_STACK_DIR: emptyStack },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Go is not installed/);
    assert.match(result.stderr, /docker compose up/);
  });
});

describe('docker-compose defaults', () => {
  const compose = readFileSync(join(__dirname, '..', 'docker-compose.yml'), 'utf8');

  it('needs an admin token and an encryption key, refuses private networks, keeps MongoDB and Temporal local', () => {
    const env = (name: string) => new RegExp(`^\\s+${name}: (.+)$`, 'm').exec(compose)?.[1] ?? '';
    assert.match(env('ADMIN_API_TOKEN'), /^\$\{ADMIN_API_TOKEN:\?/, 'no fallback admin token');
    assert.match(
      env('WEBHOOK_SECRET_ENCRYPTION_KEY'),
      /^\$\{WEBHOOK_SECRET_ENCRYPTION_KEY:\?/,
      'a key is required',
    );
    assert.equal(env('WEBHOOK_ALLOW_PRIVATE_NETWORKS'), '"false"');
    const published = [...compose.matchAll(/ports: \[(.+)\]/g)].flatMap((m) =>
      m[1]!.split(',').map((p) => p.trim()),
    );
    const internal = published.filter((p) => /27017|7233|8233/.test(p));
    assert.equal(internal.length, 3);
    for (const port of internal)
      assert.match(port, /^"127\.0\.0\.1:/, `${port} is published beyond this machine`);
  });
});
