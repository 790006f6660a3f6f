import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack } from '../tools/stack/local-stack';

// What the benches share: a private stack (in-memory Temporal, the embedded MongoDB-wire server) in
// a temporary folder that stopping removes, and one way to read a percentile.

export async function startBenchStack(name: string, log: (line: string) => void) {
  const scratchDir = mkdtempSync(join(tmpdir(), `rakubun-${name}-`));
  const stack = await startLocalStack({
    mode: 'ephemeral',
    temporal: true,
    mongodb: true,
    stripeMock: false,
    scratchDir,
    log,
  });
  return {
    env: stack.env,
    scratchDir,
    async stop() {
      await stack.stop();
      rmSync(scratchDir, { recursive: true, force: true });
    },
  };
}

/** The p-th percentile of ascending values (the nearest rank); NaN when there are none. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Each id's time from sending to its first arrival, ascending; ids that never arrived are left out. */
export function arrivalLatencies(sentAt: Map<string, number>, arrivals: Map<string, number>): number[] {
  const latencies = [...sentAt].flatMap(([id, t0]) => {
    const at = arrivals.get(id);
    return at === undefined ? [] : [at - t0];
  });
  return latencies.sort((a, b) => a - b);
}
