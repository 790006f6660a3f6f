import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot, runScript } from '../helpers/run-script';

// A short `npm run fuzz` (tools/fuzz/main.ts): schemathesis over every operation of /openapi.json,
// 5 examples per operation, fixed seed, on a private stack of its own. About a minute.

describe('schemathesis over the whole API (a short npm run fuzz)', () => {
  it('finds no 5xx, no answer its document does not list, and no 4xx that changed the database', async function () {
    if (spawnSync(process.env.FUZZ_PYTHON ?? 'python3', ['--version']).status !== 0) {
      console.log('      (skipped: no python3 for schemathesis)');
      this.skip();
    }
    this.timeout(600_000);
    const { code, output } = await runScript('tools/fuzz/main.ts', [], {
      ...process.env,
      FUZZ_EXAMPLES: process.env.TEST_FUZZ_EXAMPLES ?? '5',
      FUZZ_REPORT_DIR: join(process.env.TEST_SCRATCH_DIR ?? projectRoot, 'fuzz-report'),
      LOG_LEVEL: 'error',
    });
    const summary = output
      .split('\n')
      .filter((line) => line.startsWith('[fuzz] passed') || line.startsWith('[fuzz] FAILED'));
    console.log(`      ${summary.join('\n      ')}`);
    assert.equal(code, 0, `npm run fuzz failed:\n${output.slice(-12_000)}`);
  });
});
