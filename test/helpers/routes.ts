import { MongoClient } from 'mongodb';
import { appRoutes } from '../../src/http/app';
import type { Route } from '../../src/http/route';
import type { Ledger } from '../../src/ledger/ledger';
import { createLogger } from '../../src/logger';
import type { Temporal } from '../../src/temporal/client';
import { createSecretBox } from '../../src/tenancy/secret-box';
import { testConfig } from './env';

let declared: Route[] | undefined;

/**
 * The app's route declarations, for tests that read what is declared and documented. Nothing is
 * served and nothing connects: the database handle is never used.
 */
export function declaredRoutes(): Route[] {
  declared ??= appRoutes({
    config: testConfig(),
    logger: createLogger({ level: 'silent', name: 'routes' }),
    db: new MongoClient('mongodb://127.0.0.1:9').db('declarations-only'),
    temporal: {} as Temporal,
    secretBox: createSecretBox(undefined),
    stripe: undefined,
    ledger: {} as Ledger,
  }).flat();
  return declared;
}
