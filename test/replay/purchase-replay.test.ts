import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { stack } from '../helpers/env';

// Histories recorded from runs of earlier workflow code (test/replay/histories/README.md), replayed
// against today's bundle: a change to workflows/ that would break a run in flight fails here first.

const historiesDir = join(__dirname, 'histories');

describe('workflow replay of recorded histories', () => {
  const files = readdirSync(historiesDir).filter((name) => name.endsWith('.history.pb'));
  before(() => stack()); // installs the Temporal runtime with the suite's logger

  it('has recorded histories to replay', () => {
    assert.ok(files.length >= 2, `found ${files.length}`);
  });

  for (const file of files) {
    it(`replays ${file} with today's workflow code`, async () => {
      const history = temporal.api.history.v1.History.decode(readFileSync(join(historiesDir, file)));
      await Worker.runReplayHistory(
        { workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! }, replayName: 'replay-test' },
        history,
        file,
      );
    });
  }
});
