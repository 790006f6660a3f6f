import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import * as registered from '../../workflows';
import { stack } from '../helpers/env';

// Histories recorded from runs of earlier workflow code (test/replay/histories/README.md), replayed
// against today's bundle: a change to workflows/ that would break a run in flight fails here first.
// Every workflow type the worker registers needs at least one (test/replay/record-fixtures.ts).

const historiesDir = join(__dirname, 'histories');

const fixtures = readdirSync(historiesDir)
  .filter((name) => name.endsWith('.history.pb'))
  .sort()
  .map((file) => ({
    file,
    history: temporal.api.history.v1.History.decode(readFileSync(join(historiesDir, file))),
  }));

function workflowType(history: temporal.api.history.v1.IHistory): string | undefined {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? undefined;
}

describe('workflow replay of recorded histories', function () {
  this.timeout(120_000);
  const outcomes = new Map<string, Error | undefined>();

  before(async () => {
    await stack(); // installs the Temporal runtime with the suite's logger
    // One replay worker for all of them; each history's outcome is checked by its own test below.
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! }, replayName: 'replay-test' },
      fixtures.map(({ file, history }) => ({ workflowId: file, history })),
    );
    for await (const result of results) outcomes.set(result.workflowId, result.error);
  });

  it('has a recorded history of every workflow type the worker registers', () => {
    const types = Object.keys(registered).sort();
    assert.ok(types.length >= 8, `workflows/index.ts exports ${types.length} workflows`);
    const covered = new Set(fixtures.map(({ history }) => workflowType(history)));
    const missing = types.filter((type) => !covered.has(type));
    assert.deepEqual(
      missing,
      [],
      `no fixture for ${missing.join(', ')}: add a scenario to test/replay/fixture-scenarios.ts and ` +
        'record it with `npx tsx test/replay/record-fixtures.ts <name>`',
    );
  });

  for (const { file } of fixtures) {
    it(`replays ${file} with today's workflow code`, () => {
      assert.ok(outcomes.has(file), `${file} was not replayed`);
      const error = outcomes.get(file);
      if (error) throw error;
    });
  }
});
