import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { stack } from '../helpers/env';
import { probeWorkflowType } from './probe/probe-workflow';

// What the replay suite is for, shown on a probe workflow of its own (test/replay/probe/): a history
// recorded from the probe (one activity, then a timer) replays against the probe, is rejected as
// non-deterministic by a probe that starts its timer first, and replays again when that change is
// made behind `patched()`.

const probeDir = join(__dirname, 'probe');
const history = temporal.api.history.v1.History.decode(
  readFileSync(join(probeDir, 'replay-probe.history.pb')),
);

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

async function replayAgainst(module: string): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: join(probeDir, module), logger: quiet });
  await Worker.runReplayHistory({ workflowBundle: { code }, replayName: 'replay-probe' }, history, 'probe');
}

describe('workflow replay catches a non-deterministic change', function () {
  this.timeout(120_000);
  before(() => stack()); // installs the Temporal runtime with the suite's logger

  it('the probe history is an activity, then a timer, of the probe workflow type', () => {
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    assert.equal(started?.workflowType?.name, probeWorkflowType);
    const commands = (history.events ?? []).flatMap((event) =>
      event.activityTaskScheduledEventAttributes
        ? ['activity']
        : event.timerStartedEventAttributes
          ? ['timer']
          : [],
    );
    assert.deepEqual(commands, ['activity', 'timer']);
  });

  it('replays against the probe as it was recorded', async () => {
    await replayAgainst('probe-workflow.ts');
  });

  it('rejects a probe that starts its timer before the activity: DeterminismViolationError', async () => {
    await assert.rejects(replayAgainst('probe-workflow-changed.ts'), (error: Error) => {
      assert.ok(error instanceof DeterminismViolationError, `${error.name}: ${error.message}`);
      assert.match(error.message, /nondeterminism/i);
      return true;
    });
  });

  it('replays against the same change made behind patched()', async () => {
    await replayAgainst('probe-workflow-patched.ts');
  });
});
