import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Db, MongoClient } from 'mongodb';
import { accountIdOf, createLedger } from '../src/ledger';
import { collectionNames, ensureIndexes } from '../src/mongo/collections';
import { startLocalStack } from '../tools/stack/local-stack';

// `npm run bench:ledger`: ledger throughput and latency next to the bare driver's ceiling on the same
// server in the same run. Uses MONGODB_URL when set (a throwaway database there), else starts its own
// private embedded MongoDB-wire server. Every phase runs for a fixed time, so the whole run stays under a minute.

const phaseMs = Number(process.env.BENCH_PHASE_MS ?? 4_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const accountCount = 500;
const creditTypes = ['article', 'image', 'rewrite'];

interface PhaseResult {
  name: string;
  ops: number;
  failures: number;
  perSecond: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `concurrency` loops calling `op` until the phase's time is up; latency of every call is kept. */
async function phase(
  name: string,
  op: (worker: number, i: number) => Promise<unknown>,
  callers = concurrency,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let failures = 0;
  const reasons = new Set<string>();
  const started = performance.now();
  const deadline = started + phaseMs;
  await Promise.all(
    Array.from({ length: callers }, async (_, worker) => {
      for (let i = 0; performance.now() < deadline; i += 1) {
        const t0 = performance.now();
        try {
          await op(worker, i);
          latencies.push(performance.now() - t0);
        } catch (error) {
          failures += 1;
          reasons.add(error instanceof Error ? error.name : String(error));
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const result = {
    name,
    ops: latencies.length,
    failures,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
  console.log(
    `  ${name.padEnd(44)} ${result.perSecond.toFixed(0).padStart(6)}/s   p50 ${result.p50.toFixed(1).padStart(6)} ms   p99 ${result.p99.toFixed(1).padStart(7)} ms${failures ? `   (${failures} failed: ${[...reasons].join(', ')})` : ''}`,
  );
  return result;
}

/**
 * What the bare driver does on the same server and the same tables the ledger uses at that moment:
 * a fair ceiling reads tables of the same size, with the same indexes. Inserts use the unique indexes; the probe has the same ones.
 */
async function driverCeiling(db: Db, entryIds: string[]): Promise<void> {
  const entries = db.collection<{ _id: string }>(collectionNames.ledgerEntries);
  const probe = db.collection<{
    _id: string;
    account_id: string;
    seq: number;
    idempotency_key: string;
    transaction_id: string;
  }>(`bench_probe_${randomUUID().slice(0, 8)}`);
  await probe.createIndex({ account_id: 1, seq: 1 }, { unique: true });
  await probe.createIndex({ account_id: 1, idempotency_key: 1 }, { unique: true });
  await probe.createIndex({ transaction_id: 1 }, { unique: true });
  await phase('driver findOne ledger_entries by _id', () =>
    entries.findOne({ _id: entryIds[Math.floor(Math.random() * entryIds.length)]! }),
  );
  await phase('driver insertOne (same unique indexes)', (worker, i) =>
    probe.insertOne({
      _id: `w${worker}#${i}`,
      account_id: `w${worker}`,
      seq: i,
      idempotency_key: `k${i}`,
      transaction_id: randomUUID(),
    }),
  );
  await probe.drop();
}

async function run(db: Db): Promise<void> {
  const makeLedger = () => createLedger({ db, creditTypes });
  const ledger = makeLedger();
  const instance_id = `bench-${randomUUID().slice(0, 8)}`;
  const refs = Array.from({ length: accountCount }, (_, i) => ({ instance_id, user_id: i }));
  // Fund every account (in parallel batches) so deductions never run dry during the run.
  const entryIds: string[] = [];
  for (let i = 0; i < refs.length; i += concurrency) {
    const funded = await Promise.all(
      refs
        .slice(i, i + concurrency)
        .map((ref) => ledger.grant({ ...ref, credit_type: 'article', amount: 1_000_000 })),
    );
    entryIds.push(...funded.map((result) => result.entry._id));
  }
  const pick = () => refs[Math.floor(Math.random() * refs.length)]!;
  const hot = { instance_id, user_id: 'hot' };
  const funded = await ledger.grant({ ...hot, credit_type: 'article', amount: 1_000_000 });

  console.log(`bare driver (ledger_entries holds ${entryIds.length + 1} entries)`);
  await driverCeiling(db, entryIds);

  console.log(`(a) ${accountCount} accounts, random access`);
  await phase('ledger balances (GET credits)', () => ledger.balances(pick()));
  await phase('ledger deduct', () => ledger.deduct({ ...pick(), credit_type: 'article', amount: 1 }));

  console.log('(b) one hot account');
  await phase('ledger balances (GET credits)', () => ledger.balances(hot));
  const oneProcess = await phase('ledger deduct, 1 process (queued)', () =>
    ledger.deduct({ ...hot, credit_type: 'article', amount: 1, idempotency_key: `bench:${randomUUID()}` }),
  );
  // Separate ledgers have separate queues: they race like API processes do, through the indexes.
  const processes = Array.from({ length: 4 }, makeLedger);
  // One caller each: four API processes, each with a request in flight, racing on one account.
  const fourProcesses = await phase(
    'ledger deduct, 4 processes racing',
    (worker) => processes[worker]!.deduct({ ...hot, credit_type: 'article', amount: 1 }),
    4,
  );

  // The run is also a check: the hot balance is exactly what the successful deductions left.
  const expected = funded.balances.article! - oneProcess.ops - fourProcesses.ops;
  const actual = (await ledger.balances(hot)).balances.article;
  const entries = await db
    .collection(collectionNames.ledgerEntries)
    .find({ account_id: accountIdOf(hot.instance_id, hot.user_id) })
    .project<{ delta: number }>({ delta: 1 })
    .toArray();
  const sum = entries.reduce((total, entry) => total + entry.delta, 0);
  const exact =
    actual === expected && sum === expected && entries.length === 1 + oneProcess.ops + fourProcesses.ops;
  console.log(
    `hot account: ${entries.length} entries summing to ${sum}, balance ${actual}, expected ${expected}: ${exact ? 'exact' : 'MISMATCH'}`,
  );
  if (!exact) process.exitCode = 1;
}

async function main(): Promise<void> {
  const started = Date.now();
  const scratchDir = mkdtempSync(join(tmpdir(), 'rakubun-bench-'));
  const external = process.env.MONGODB_URL;
  const stack = external
    ? undefined
    : await startLocalStack({
        mode: 'ephemeral',
        temporal: false,
        mongodb: true,
        stripeMock: false,
        scratchDir,
      });
  const url = external ?? stack!.env.MONGODB_URL!;
  const client = new MongoClient(url);
  const db = client.db(`rakubun_bench_${randomUUID().slice(0, 8)}`);
  try {
    await ensureIndexes(db);
    console.log(
      `ledger bench on ${external ? 'MONGODB_URL' : 'a private embedded MongoDB-wire server'}: ${concurrency} concurrent callers, ${phaseMs / 1000}s per phase`,
    );
    await run(db);
    console.log(
      `ledger_entries: ${await db.collection(collectionNames.ledgerEntries).estimatedDocumentCount()} documents; total ${Math.round((Date.now() - started) / 1000)}s`,
    );
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
    await stack?.stop();
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error('bench failed:', error);
  process.exit(1);
});
