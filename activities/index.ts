import type { Db } from 'mongodb';
import type { Config } from '../src/config';
import type { Logger } from '../src/logger';
import { createDiagnosticActivities } from './diagnostics';

/** What activities need from the outside world; tests hand in the real ones wired to the local stack. */
export interface ActivityDeps {
  config: Config;
  db: Db;
  logger: Logger;
}

export function createActivities(_deps: ActivityDeps) {
  return {
    ...createDiagnosticActivities(),
  };
}

export type Activities = ReturnType<typeof createActivities>;
