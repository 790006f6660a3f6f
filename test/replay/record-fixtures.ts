import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { temporal } from '@temporalio/proto';
import { ensureWorkflowBundle } from '../../src/temporal/workflow-bundle';
import { startLocalStack } from '../../tools/stack/local-stack';
import { stack } from '../helpers/env';
import { issuedSecrets } from '../helpers/plugin-client';
import { type PurchaseWorld, startPurchaseWorld, stripeKey, webhookSecret } from '../purchases/harness';
import { type Harness, webhookHarness } from '../webhooks/harness';
import { startReceiver } from '../webhooks/receiver';
import { type Execution, type RecorderContext, scenarios } from './fixture-scenarios';

// Records the replay fixtures (fixture-scenarios.ts says what each one is) on a private stack of its
// own, like `npm test` starts, with the real activities, the Stripe sandbox and local plugin sites:
//
//   npx tsx test/replay/record-fixtures.ts                 every fixture not recorded yet
//   npx tsx test/replay/record-fixtures.ts <name>...       these (a fixture or scenario name)
//   npx tsx test/replay/record-fixtures.ts --list          what there is
//
// A fixture already on disk is a recording of older workflow code, which is what makes it worth
// replaying: it is kept unless `--overwrite` is given. Runs that stay open (purchases after their
// fulfilment, endpoint drains) are recorded once they are idle, mid-run; a partial history replays.

const replayDir = __dirname;
const fixtureFile = (dir: string, name: string) => join(replayDir, dir, `${name}.history.pb`);

function fixturesOf(name: string) {
  return Object.entries(scenarios).filter(
    ([scenario, { fixtures }]) => scenario === name || fixtures.includes(name),
  );
}

/** Waits until the run has nothing in flight (no workflow task, no activity) and its history is still. */
async function settle(ctx: RecorderContext, run: Execution): Promise<void> {
  const handle = ctx.client.workflow.getHandle(run.workflowId, run.runId);
  const deadline = Date.now() + 60_000;
  let length = -1;
  let stillSince = Date.now();
  for (;;) {
    const described = await handle.describe();
    if (described.status.name !== 'RUNNING') return;
    const busy =
      (described.raw.pendingActivities?.length ?? 0) > 0 || Boolean(described.raw.pendingWorkflowTask);
    if (busy || described.historyLength !== length) {
      length = described.historyLength;
      stillSince = Date.now();
    } else if (Date.now() - stillSince >= 1_500) {
      return;
    }
    if (Date.now() > deadline) throw new Error(`${run.workflowId} did not settle`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Credentials a recording must never hold (the payloads are stored as they are). */
function leakedSecrets(bytes: Uint8Array): string[] {
  const text = Buffer.from(bytes).toString('latin1');
  const known = [
    ...issuedSecrets,
    stripeKey,
    webhookSecret,
    process.env.ADMIN_API_TOKEN ?? '',
    process.env.WEBHOOK_SECRET_ENCRYPTION_KEY ?? '',
  ].filter((secret) => secret.length >= 8);
  const found = known.filter((secret) => text.includes(secret)).map((secret) => `${secret.slice(0, 6)}...`);
  for (const pattern of [/sk_(test|live)_/, /whsec_/, /_secret_/]) {
    if (pattern.test(text)) found.push(String(pattern));
  }
  return found;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--list')) {
    for (const [name, scenario] of Object.entries(scenarios)) {
      for (const fixture of scenario.fixtures) {
        const file = fixtureFile(scenario.dir ?? 'histories', fixture);
        console.log(`${fixture.padEnd(44)} ${name.padEnd(40)} ${existsSync(file) ? 'recorded' : '-'}`);
      }
    }
    return 0;
  }
  const overwrite = args.includes('--overwrite');
  const names = args.filter((arg) => !arg.startsWith('--'));
  const unknown = names.filter((name) => fixturesOf(name).length === 0);
  if (unknown.length > 0) {
    console.error(`unknown fixture or scenario: ${unknown.join(', ')} (see --list)`);
    return 2;
  }
  // Which fixtures of which scenarios to write.
  const wanted = new Map<string, Set<string>>();
  for (const [scenario, { fixtures, dir }] of Object.entries(scenarios)) {
    const chosen = fixtures.filter((fixture) => {
      const asked = names.length === 0 || names.includes(fixture) || names.includes(scenario);
      const present = existsSync(fixtureFile(dir ?? 'histories', fixture));
      if (asked && present && !overwrite) {
        if (names.length > 0)
          console.log(`[record] ${fixture}: kept (recorded already; --overwrite replaces it)`);
        return false;
      }
      return asked;
    });
    if (chosen.length > 0) wanted.set(scenario, new Set(chosen));
  }
  if (wanted.size === 0) {
    console.log('[record] nothing to record');
    return 0;
  }

  const scratchDir = mkdtempSync(join(tmpdir(), 'rakubun-fixtures-'));
  const local = await startLocalStack({
    mode: 'ephemeral',
    temporal: true,
    mongodb: true,
    stripeMock: true,
    scratchDir,
    log: (line) => console.log(line),
  });
  const cleanups: Array<() => Promise<unknown>> = [];
  let shared: Awaited<ReturnType<typeof stack>> | undefined;
  try {
    // The settings test/run.ts gives the suites.
    Object.assign(process.env, local.env, {
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      MONGODB_DATABASE: 'rakubun_fixtures',
      TEMPORAL_TASK_QUEUE: 'rakubun-fixtures',
      REGISTRATION_RATE_LIMIT_PER_MINUTE: '1000000',
      REGISTRATION_MODE: 'open',
      WEBHOOK_SECRET_ENCRYPTION_KEY: 'a'.repeat(64),
      ADMIN_API_TOKEN: 'test-admin-token-0123456789abcdef0123456789',
      TEST_SCRATCH_DIR: scratchDir,
    });
    process.env.TEST_WORKFLOW_BUNDLE = await ensureWorkflowBundle((line) => console.log(line));
    shared = await stack();

    const once = <T>(start: () => Promise<T & { stop(): Promise<unknown> }>) => {
      let started: Promise<T> | undefined;
      return () => {
        started ??= start().then((value) => {
          cleanups.push(() => value.stop());
          return value;
        });
        return started;
      };
    };
    const ctx: RecorderContext = {
      client: shared.temporal.client,
      db: shared.db,
      nativeConnection: shared.nativeConnection,
      purchases: once<PurchaseWorld>(() => startPurchaseWorld()),
      async freshPurchases() {
        const world = await startPurchaseWorld();
        cleanups.push(() => world.stop());
        return world;
      },
      webhooks: once<Harness>(() => webhookHarness()),
      async receiver(responder) {
        const site = await startReceiver(responder);
        cleanups.push(() => site.close());
        return site;
      },
    };

    for (const [name, fixtures] of wanted) {
      const scenario = scenarios[name]!;
      console.log(`[record] ${name}`);
      const runs = await scenario.record(ctx);
      for (const fixture of fixtures) {
        const run = runs[fixture];
        if (!run) throw new Error(`scenario ${name} recorded no run for ${fixture}`);
        await settle(ctx, run);
        const history = await ctx.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
        const bytes = temporal.api.history.v1.History.encode(history).finish();
        const leaked = leakedSecrets(bytes);
        if (leaked.length > 0)
          throw new Error(`${fixture} holds credentials (${leaked.join(', ')}): not written`);
        const file = fixtureFile(scenario.dir ?? 'histories', fixture);
        writeFileSync(file, bytes);
        console.log(
          `[record]   ${relative(process.cwd(), file)}: ${history.events?.length ?? 0} events, ${bytes.length} bytes`,
        );
      }
    }
    return 0;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error(error));
    await shared?.nativeConnection.close().catch(() => undefined);
    await shared?.temporal.connection.close().catch(() => undefined);
    await shared?.mongoClient.close().catch(() => undefined);
    await local.stop();
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error('[record] failed:', error);
    process.exit(1);
  },
);
