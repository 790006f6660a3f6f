import type { ParameterizedContext } from 'koa';
import type { Db } from 'mongodb';
import type { Config } from '../config';
import type { Ledger } from '../ledger/ledger';
import type { Logger } from '../logger';
import type { StripeGateway } from '../stripe/gateway';
import type { Temporal } from '../temporal/client';
import type { InstanceDoc } from '../tenancy/instances';
import type { SecretBox } from '../tenancy/secret-box';
import type { ClientInfo } from '../tenancy/user-agent';

/** Everything the HTTP layer needs, built once per process and handed to the routes. */
export interface AppDeps {
  config: Config;
  logger: Logger;
  db: Db;
  temporal: Temporal;
  secretBox: SecretBox;
  /** Undefined without STRIPE_SECRET_KEY: purchases then answer 500 payment_not_configured. */
  stripe: StripeGateway | undefined;
  /** Built from the config when not given (tests hand in their own). */
  ledger?: Ledger;
}

export interface AppState {
  requestId: string;
  log: Logger;
  /** Fields for `log` while it is not made yet (http/middleware/request-id.ts); add them with bindLog. */
  logBindings?: Record<string, unknown>;
  /** The request body exactly as received (Stripe signatures are computed over it). */
  rawBody?: Buffer;
  /** The parsed JSON body, before validation. */
  body?: unknown;
  /** The authenticated plugin instance (set by pluginAuth). */
  instance?: InstanceDoc;
  /** Platform and plugin version from the User-Agent / X-Platform (set by pluginAuth). */
  client?: ClientInfo;
  /** The request's Idempotency-Key, once the idempotency middleware has claimed it. */
  idempotencyKey?: string;
}

export type AppContext = ParameterizedContext<AppState>;

/** The authenticated instance of a route behind pluginAuth. */
export function callerInstance(ctx: AppContext): InstanceDoc {
  if (!ctx.state.instance) throw new Error('route is not behind pluginAuth');
  return ctx.state.instance;
}
