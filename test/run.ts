import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Mocha from 'mocha';
import { ensureWorkflowBundle } from '../src/temporal/workflow-bundle';
import { startLocalStack } from '../tools/stack/local-stack';

// `npm test`: one private stack on free ports for the whole run (in-memory Temporal, the embedded MongoDB-wire server on a
// temporary folder, stripe-mock), then every test/**/*.test.ts with mocha. Exits non-zero on failure.

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return testFiles(path);
      return entry.name.endsWith('.test.ts') ? [path] : [];
    })
    .sort();
}

async function main(): Promise<number> {
  const started = Date.now();
  const scratchDir = mkdtempSync(join(tmpdir(), 'rakubun-test-'));
  const stack = await startLocalStack({
    mode: 'ephemeral',
    temporal: true,
    mongodb: true,
    stripeMock: true,
    scratchDir,
    log: (line) => console.log(line),
  });
  try {
    Object.assign(process.env, stack.env, {
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      MONGODB_DATABASE: 'rakubun_test',
      TEMPORAL_TASK_QUEUE: 'rakubun-test',
      // Tests register hundreds of instances a minute from one address.
      REGISTRATION_RATE_LIMIT_PER_MINUTE: '1000000',
      // Suites register and use an instance at once; the other modes have a suite of their own.
      REGISTRATION_MODE: 'open',
      WEBHOOK_SECRET_ENCRYPTION_KEY: 'a'.repeat(64),
      ADMIN_API_TOKEN: 'test-admin-token-0123456789abcdef0123456789',
      TEST_SCRATCH_DIR: scratchDir,
    });
    console.log('[test] bundling workflow code');
    process.env.TEST_WORKFLOW_BUNDLE = await ensureWorkflowBundle((line) => console.log(line));
    console.log(`[test] stack ready in ${Math.round((Date.now() - started) / 1000)}s`);

    const grep = process.env.TEST_GREP;
    const mocha = new Mocha({ timeout: 60_000, reporter: 'spec', ...(grep ? { grep } : {}) });
    for (const file of testFiles(__dirname)) mocha.addFile(file);
    await mocha.loadFilesAsync();
    const failures = await new Promise<number>((resolve) => mocha.run(resolve));
    return failures > 0 ? 1 : 0;
  } finally {
    await stack.stop();
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error('[test] failed to run:', error);
    process.exit(1);
  },
);
