import type { Db } from 'mongodb';
import type { Config } from '../src/config';
import type { Logger } from '../src/logger';
import { createDiagnosticActivities } from './diagnostics';
import { createWebhookActivities } from './webhooks';

/** What activities need from the outside world; tests hand in the real ones wired to the local stack. */
export interface ActivityDeps {
  config: Config;
  db: Db;
  logger: Logger;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createDiagnosticActivities(),
    ...createWebhookActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
