import type { ParameterizedContext } from 'koa';
import type { Logger } from '../logger';
import type { Services } from '../services';
import type { InstanceDoc } from '../tenancy/instances';
import type { ClientInfo } from '../tenancy/user-agent';

/** Everything the HTTP layer needs: the process's services (src/services.ts), built once. */
export type AppDeps = Services;

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
  /** The operator whose token called an admin route (set by adminAuth): `admin` for ADMIN_API_TOKEN. */
  operator?: string;
  /** An admin write's audit record in the making (http/middleware/admin-audit.ts): handlers may add. */
  audit?: { targets: Record<string, string>; notes: string[] };
}

export type AppContext = ParameterizedContext<AppState>;

/** The authenticated instance of a route behind pluginAuth. */
export function callerInstance(ctx: AppContext): InstanceDoc {
  if (!ctx.state.instance) throw new Error('route is not behind pluginAuth');
  return ctx.state.instance;
}
