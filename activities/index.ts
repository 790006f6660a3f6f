import type { Db } from 'mongodb';
import type { Config } from '../src/config';
import { ledgerFromConfig } from '../src/ledger/from-config';
import type { Logger } from '../src/logger';
import type { Temporal } from '../src/temporal/client';
import { createDiagnosticActivities } from './diagnostics';
import { createLedgerActivities } from './ledger';

/** What activities need from the outside world; tests hand in the real ones wired to the local stack. */
export interface ActivityDeps {
  config: Config;
  db: Db;
  logger: Logger;
  /** A client, for activities whose writes start workflows (an expiring grant starts its timer). */
  temporal?: Temporal;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createDiagnosticActivities(),
    ...createLedgerActivities({ ledger: ledgerFromConfig(deps) }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
