import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, runScript } from '../helpers/run-script';

// A short `npm run chaos` (tools/chaos/main.ts): 30 purchases with a fixed plan while the worker is
// killed, Temporal and the MongoDB-wire server restarted, Stripe fails and plugin sites go down, on
// a private stack of its own; then the money is checked. About two minutes.

/** Every kind of fault the run injects: a short run must meet each at least once. */
const faults = [
  'worker killed (SIGKILL) and restarted',
  'Temporal dev server restarted',
  'MongoDB-wire server killed and restarted',
  'stripe API calls answered 500',
  'stripe API calls answered 429',
  'stripe API calls answered slowly',
  'Stripe webhooks switched off for a while',
  'plugin site failing for a while',
  'delivery: twice',
  'delivery: reversed',
  'delivery: reconcile_only',
  'async payments settling late',
];

interface ChaosReport {
  injected: Record<string, number>;
  found: Record<string, number>;
  violations: string[];
}

describe('chaos: 30 purchases through worker kills, restarts and Stripe faults (a short npm run chaos)', () => {
  it('credits every paid purchase once and breaks no check, having met every fault', async function () {
    this.timeout(900_000);
    const report = join(process.env.TEST_SCRATCH_DIR ?? projectRoot, 'chaos-report.json');
    const { code, output } = await runScript('tools/chaos/main.ts', [
      '--purchases',
      '30',
      '--seed',
      '1',
      '--report',
      report,
    ]);
    assert.equal(code, 0, `npm run chaos failed:\n${output.slice(-12_000)}`);
    const result = JSON.parse(readFileSync(report, 'utf8')) as ChaosReport;
    assert.deepEqual(result.violations, []);
    const missed = faults.filter((fault) => !(result.injected[fault] && result.injected[fault] > 0));
    assert.deepEqual(missed, [], 'faults the run never injected');
    const afterSale = Object.keys(result.injected).filter((key) => key.startsWith('after sale: '));
    assert.ok(
      afterSale.some((key) => key.includes('refund')),
      'no refund',
    );
    assert.ok(
      afterSale.some((key) => key.includes('dispute')),
      'no dispute',
    );
    assert.ok((result.found['paid at Stripe'] ?? 0) > 0, 'no purchase was paid');
    console.log(
      `      ${result.found['paid at Stripe']} paid, ${result.found['not paid at Stripe']} not; ${faults.map((f) => `${f} ${result.injected[f]}`).join(', ')}; ${result.found['wall time (s)']} s`,
    );
  });
});
