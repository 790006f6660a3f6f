import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import { ensureWorkflowBundle } from '../src/temporal/workflow-bundle';
import { GoMissingError } from './stack/binaries';
import { JavaMissingError } from './stack/embedded-mongo-build';
import { startLocalStack } from './stack/local-stack';
import { projectRoot, stackPaths } from './stack/paths';
import { waitForPort } from './stack/ports';
import { startLocalStripeSandbox } from './stripe-sandbox/local';

// `npm start`: the whole backend on one machine. Starts the servers that are not configured
// (Temporal, the embedded MongoDB-wire server), then the API and a worker as separate processes, as they run in production.

const say = (line: string) => console.log(line);

/** A secret kept under .stack so that it survives restarts of the local stack. */
function localSecret(name: string): string {
  const file = join(stackPaths().root, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  mkdirSync(stackPaths().root, { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

function spawnProcess(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'src', 'main', entry)], {
    cwd: projectRoot,
    env,
    stdio: 'inherit',
  });
}

async function main(): Promise<void> {
  const config = loadConfig(); // fail fast on a bad setting, before building anything
  // No Stripe configured: the local sandbox plays Stripe (checkout page, webhooks) on this
  // machine. Started first: it holds no servers that a failure here would leave running.
  const stripeSandbox =
    process.env.STRIPE_SECRET_KEY || process.env.STRIPE_API_URL
      ? undefined
      : await startLocalStripeSandbox({
          apiPort: config.PORT,
          stateFile: join(stackPaths().data, 'stripe-sandbox.json'),
          log: say,
        });
  const stack = await startLocalStack({
    mode: 'persistent',
    temporal: !process.env.TEMPORAL_ADDRESS,
    mongodb: !process.env.MONGODB_URL,
    stripeMock: false,
    log: say,
  });
  const adminToken = process.env.ADMIN_API_TOKEN || localSecret('admin-token');

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...stack.env,
    ...stripeSandbox?.env,
    ADMIN_API_TOKEN: adminToken,
    WEBHOOK_SECRET_ENCRYPTION_KEY:
      process.env.WEBHOOK_SECRET_ENCRYPTION_KEY || localSecret('webhook-secret-encryption-key'),
    // Plugin sites on this machine are on loopback: allow them on the local stack only.
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: process.env.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? 'true',
    // A plugin on this machine is often not reachable as its site_url says: no proof asked locally.
    REGISTRATION_MODE: process.env.REGISTRATION_MODE ?? 'open',
  };

  say('[start] bundling workflow code (reused while workflows/ is unchanged)');
  await ensureWorkflowBundle(say);

  const children = new Map<string, ChildProcess>([
    ['api', spawnProcess('api.ts', env)],
    ['worker', spawnProcess('worker.ts', env)],
  ]);

  let stopping = false;
  const stopAll = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    say('[start] stopping API and worker...');
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    say('[start] stopping local servers...');
    await stripeSandbox?.stop();
    await stack.stop();
    say('[start] stopped');
    process.exit(exitCode);
  };
  for (const [name, child] of children) {
    child.on('exit', (code, signal) => {
      if (!stopping) {
        say(`[start] ${name} exited (${signal ?? code}); stopping the rest`);
        void stopAll(1);
      }
    });
  }
  // Ctrl-C reaches the API and worker too (same process group); both finish in-flight work.
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  await waitForPort(config.PORT, 60_000, 'API');
  const urls = {
    API: `http://127.0.0.1:${config.PORT}`,
    Health: `http://127.0.0.1:${config.PORT}/health`,
    ...stack.urls,
    ...(stripeSandbox ? { 'Stripe sandbox': stripeSandbox.url } : {}),
  };
  say('');
  say('Rakubun credits backend is running:');
  for (const [name, url] of Object.entries(urls)) say(`  ${name.padEnd(16)} ${url}`);
  say(
    `  ${'Admin token'.padEnd(16)} ${process.env.ADMIN_API_TOKEN ? '(from ADMIN_API_TOKEN)' : '.stack/admin-token'}`,
  );
  say('Press Ctrl-C to stop everything.');
}

main().catch((error) => {
  if (error instanceof GoMissingError || error instanceof JavaMissingError)
    console.error(`[start] ${error.message}`);
  else console.error('[start] failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
