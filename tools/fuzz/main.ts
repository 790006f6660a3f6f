import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/logger';
import { ensureIndexes } from '../../src/mongo/collections';
import { packageStore } from '../../src/packages/store';
import { assembleServices } from '../../src/services';
import { createTemporal } from '../../src/temporal/client';
import { ensureWorkflowBundle } from '../../src/temporal/workflow-bundle';
import { startLocalStack } from '../stack/local-stack';
import { projectRoot } from '../stack/paths';
import { freePort } from '../stack/ports';
import { startStripeSandbox } from '../stripe-sandbox/server';
import { type RequestVerdict, watchDatabase } from './db-watch';
import { ensureSchemathesis } from './venv';

// `npm run fuzz`: schemathesis against /openapi.json of the whole API, on a private stack (in-memory
// Temporal, the embedded MongoDB-wire server, the Stripe sandbox), with the API in this process and a
// worker in its own. Fixed seed and examples per operation (FUZZ_SEED, FUZZ_EXAMPLES). Fails on a
// 5xx, an answer that breaks its documented schema or status, and a 4xx that changed the database.

const say = (line: string) => console.log(line);
const seed = Number(process.env.FUZZ_SEED ?? 13);
const examples = Number(process.env.FUZZ_EXAMPLES ?? 50);
const phases = process.env.FUZZ_PHASES ?? 'examples,coverage,fuzzing';
const checks = [
  'not_a_server_error',
  'status_code_conformance',
  'response_schema_conformance',
  'no_write_on_4xx',
];

async function main(): Promise<number> {
  const started = Date.now();
  const cli = await ensureSchemathesis(say);
  const scratchDir = mkdtempSync(join(tmpdir(), 'rakubun-fuzz-'));
  const stack = await startLocalStack({
    mode: 'ephemeral',
    temporal: true,
    mongodb: true,
    stripeMock: false,
    scratchDir,
    log: say,
  });
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  try {
    const apiPort = await freePort();
    const api = `http://127.0.0.1:${apiPort}`;
    const stripeWebhookSecret = `whsec_${randomBytes(24).toString('hex')}`;
    const sandbox = await startStripeSandbox({
      port: await freePort(),
      webhookUrl: `${api}/api/v1/stripe/webhook`,
      webhookSecret: stripeWebhookSecret,
      stateFile: join(scratchDir, 'stripe-sandbox.json'),
    });
    cleanups.push(() => sandbox.stop());
    const adminToken = randomBytes(24).toString('hex');
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...stack.env,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: api,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      MONGODB_DATABASE: 'rakubun_fuzz',
      TEMPORAL_TASK_QUEUE: 'rakubun-fuzz',
      STRIPE_API_URL: sandbox.url,
      STRIPE_SECRET_KEY: 'sk_test_local_sandbox',
      STRIPE_WEBHOOK_SECRET: stripeWebhookSecret,
      ADMIN_API_TOKEN: adminToken,
      WEBHOOK_SECRET_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      REGISTRATION_MODE: 'open',
      // Every case must reach its handler, not the limiter.
      RATE_LIMIT_PER_MINUTE: '1000000000',
      REGISTRATION_RATE_LIMIT_PER_MINUTE: '1000000000',
    };
    const config = loadConfig(env);
    const logger = createLogger({ level: config.LOG_LEVEL, name: 'fuzz-api' });

    say('[fuzz] bundling workflow code');
    await ensureWorkflowBundle(say);
    const worker: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', join(projectRoot, 'src', 'main', 'worker.ts')],
      { cwd: projectRoot, env, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          if (worker.exitCode !== null) return resolve();
          worker.once('exit', () => resolve());
          worker.kill('SIGTERM');
        }),
    );

    // The API, as src/main/api-app.ts builds it, but on a MongoDB client that reports its commands.
    const apiClient = new MongoClient(config.MONGODB_URL, {
      monitorCommands: true,
      appName: 'rakubun-fuzz-api',
    });
    const snapshotClient = new MongoClient(config.MONGODB_URL, { appName: 'rakubun-fuzz-snapshots' });
    cleanups.push(
      () => apiClient.close(),
      () => snapshotClient.close(),
    );
    const db = apiClient.db(config.MONGODB_DATABASE);
    await ensureIndexes(db);
    await packageStore(db).seed(config.CREDIT_TYPES);
    const temporal = createTemporal(config);
    cleanups.push(() => temporal.connection.close());
    const app = createApp(assembleServices({ config, logger, db, temporal }));
    const watch = watchDatabase(apiClient, snapshotClient.db(config.MONGODB_DATABASE));
    const server = createServer(watch.wrap(app.callback()));
    await new Promise<void>((resolve) => server.listen(apiPort, '127.0.0.1', () => resolve()));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });

    // The probe the schemathesis hook asks after each response.
    const probe = createServer(async (_req, res) => {
      const verdict: RequestVerdict | undefined = await watch.latest();
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(verdict ?? null));
    });
    const probePort = await freePort();
    await new Promise<void>((resolve) => probe.listen(probePort, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise((resolve) => probe.close(resolve)));

    // One plugin site, registered as the WordPress plugin does.
    const registered = await fetch(`${api}/api/v1/plugins/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Rakubun-WordPress-Plugin/2.0.1' },
      body: JSON.stringify({
        instance_id: `fuzz-${randomUUID()}`,
        site_url: 'https://example.com',
        admin_email: 'admin@example.com',
        wordpress_version: '6.5',
        plugin_version: '2.0.1',
      }),
    });
    const plugin = (await registered.json()) as { instance_id?: string; api_token?: string };
    if (!registered.ok || !plugin.api_token || !plugin.instance_id)
      throw new Error(`registering the fuzz plugin failed: ${registered.status}`);
    say(
      `[fuzz] stack ready in ${Math.round((Date.now() - started) / 1000)}s; seed ${seed}, ${examples} examples per operation, phases ${phases}`,
    );
    say(`[fuzz] checks: ${checks.join(', ')}`);

    // The run's credentials, and any a shown answer carries (a registration, a rotation, a new key).
    const redact = (text: string) =>
      text
        .replaceAll(adminToken, '[Filtered]')
        .replaceAll(plugin.api_token!, '[Filtered]')
        .replace(/\b(rk_|rkk_|whsec_)[A-Za-z0-9_-]+/g, '$1[Filtered]')
        .replace(/("(?:api_token|webhook_secret|key|secret|token)"\s*:\s*)"[^"]*"/g, '$1"[Filtered]"');
    const reportDir = process.env.FUZZ_REPORT_DIR ?? join(projectRoot, '.stack', 'fuzz-report');
    mkdirSync(reportDir, { recursive: true });
    const schemathesisEnv = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PYTHONPATH: __dirname,
      // No __pycache__ of hooks.py in tools/fuzz/.
      PYTHONDONTWRITEBYTECODE: '1',
      SCHEMATHESIS_HOOKS: 'hooks',
      FUZZ_PROBE_URL: `http://127.0.0.1:${probePort}/`,
      FUZZ_INSTANCE_ID: plugin.instance_id,
      FUZZ_PLUGIN_TOKEN: plugin.api_token,
      FUZZ_ADMIN_TOKEN: adminToken,
    };
    const runSchemathesis = (label: string, filter: string[], maxExamples = examples) =>
      new Promise<{ code: number; output: string }>((resolve, reject) => {
        say(`[fuzz] run ${label}`);
        const child = spawn(
          cli,
          [
            '--config-file',
            join(__dirname, 'schemathesis.toml'),
            'run',
            `${api}/openapi.json`,
            '--url',
            api,
            ...filter,
            '--workers',
            '1',
            '--seed',
            String(seed),
            '--max-examples',
            String(maxExamples),
            '--phases',
            phases,
            '--checks',
            checks.join(','),
            // A test send (POST /api/v1/webhooks/{id}/test) waits for its one try, up to 30 s.
            '--request-timeout',
            '60',
            '--report',
            'junit',
            '--report-dir',
            reportDir,
            '--report-junit-path',
            join(reportDir, `${label}.xml`),
            '--no-color',
          ],
          // Its working folder gets its cache (.schemathesis/): keep it under .stack/.
          { cwd: reportDir, env: schemathesisEnv, stdio: ['ignore', 'pipe', 'inherit'] },
        );
        // Line by line through redact(): schemathesis masks what it sends, not the answers it shows.
        let output = '';
        let partial = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          const lines = (partial + chunk.toString()).split('\n');
          partial = lines.pop() ?? '';
          const text = lines.map(redact).join('\n');
          output += `${text}\n`;
          process.stdout.write(`${text}\n`);
        });
        child.once('error', reject);
        child.once('exit', (exitCode) => {
          if (partial) process.stdout.write(`${redact(partial)}\n`);
          output += redact(partial);
          resolve({ code: exitCode ?? 1, output });
        });
      });
    // Plugin routes first, on a healthy instance; then the operators' routes, which may disable or
    // delete that instance, with rotating its credentials (which ends its token) among them. A test
    // send waits up to 30 s for its one try at a receiver that is never there: 3 examples of it.
    const testSend = '/api/v1/webhooks/{id}/test';
    const runs = [
      await runSchemathesis('plugin', [
        '--exclude-path-regex',
        '^/admin/',
        '--exclude-path',
        '/api/v1/plugins/rotate-credentials',
        '--exclude-path',
        testSend,
      ]),
      await runSchemathesis('test-send', ['--include-path', testSend], Math.min(examples, 3)),
      await runSchemathesis('admin', [
        '--include-path-regex',
        '^/admin/|^/api/v1/plugins/rotate-credentials$',
      ]),
    ];
    for (const name of readdirSync(reportDir).filter((file) => file.endsWith('.xml'))) {
      const file = join(reportDir, name);
      writeFileSync(file, redact(readFileSync(file, 'utf8')));
    }
    const number = (output: string, pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? 0);
    const cases = runs.reduce((sum, run) => sum + number(run.output, /(\d+) generated/), 0);
    const tested = runs.reduce((sum, run) => sum + number(run.output, /Tested: (\d+)/), 0);
    const code = runs.every((run) => run.code === 0) ? 0 : 1;
    const { requests, checked4xx } = watch.stats();
    say(
      `[fuzz] ${code === 0 ? 'passed' : 'FAILED'}: ${cases} cases over ${tested} operations; ${requests} requests ` +
        `served, ${checked4xx} answered 4xx and were checked for database changes; ` +
        `${Math.round((Date.now() - started) / 1000)}s (JUnit reports in ${reportDir})`,
    );
    return code;
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    await stack.stop();
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error('[fuzz] failed to run:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
