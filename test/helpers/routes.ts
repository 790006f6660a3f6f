import { MongoClient } from 'mongodb';
import { appRoutes } from '../../src/http/app';
import type { Route } from '../../src/http/route';
import { createLogger } from '../../src/logger';
import { assembleServices } from '../../src/services';
import type { Temporal } from '../../src/temporal/client';
import { testConfig } from './env';

let declared: Route[] | undefined;

/**
 * The app's route declarations, for tests that read what is declared and documented. Nothing is
 * served and nothing connects: the database handle is never used.
 */
export function declaredRoutes(): Route[] {
  declared ??= appRoutes(
    assembleServices({
      config: testConfig(),
      logger: createLogger({ level: 'silent', name: 'routes' }),
      db: new MongoClient('mongodb://127.0.0.1:9').db('declarations-only'),
      temporal: {} as Temporal,
      stripe: undefined,
    }),
  ).flat();
  return declared;
}
