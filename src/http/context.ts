import type { ParameterizedContext } from 'koa';
import type { Db } from 'mongodb';
import type { Config } from '../config';
import type { Ledger } from '../ledger/ledger';
import type { Logger } from '../logger';
import type { Temporal } from '../temporal/client';

/** Everything the HTTP layer needs, built once per process and handed to the routes. */
export interface AppDeps {
  config: Config;
  logger: Logger;
  db: Db;
  temporal: Temporal;
  /** Built from the config when not given (tests hand in their own). */
  ledger?: Ledger;
}

export interface AppState {
  requestId: string;
  log: Logger;
  /** The request body exactly as received (Stripe signatures are computed over it). */
  rawBody?: Buffer;
  /** The parsed JSON body, before validation. */
  body?: unknown;
  /** The plugin instance calling, once plugin authentication has accepted its credentials. */
  instance?: { instance_id: string };
}

export type AppContext = ParameterizedContext<AppState>;
