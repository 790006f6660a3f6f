import Router, { type RouterContext } from '@koa/router';
import type { Middleware } from 'koa';
import type { z } from 'zod';
import type { Scope } from '../tenancy/scopes';
import type { AppState } from './context';
import type { Guards } from './guards';
import { parseBody, parseQuery } from './validate';

// One declaration per route: the Koa routers (src/http/app.ts) and the OpenAPI document
// (src/http/openapi.ts) are both made from it, so what is served and what is documented cannot drift.

export type Method = 'get' | 'post' | 'put' | 'delete';

/**
 * Who may call a route:
 * - `plugin`: an instance (Bearer api_token or scoped key, X-Instance-ID, an allowed User-Agent),
 *   then its per-minute limit;
 * - `admin`: an operator (Bearer ADMIN_API_TOKEN or one of ADMIN_API_TOKENS); every admin route but
 *   a GET is recorded in admin_audit;
 * - `metrics`: a Prometheus scraper (Bearer METRICS_TOKEN) or an operator;
 * - `anonymous`: anyone, limited per client address;
 * - `none`: anyone;
 * - `stripe`: Stripe, checked by the handler (Stripe-Signature over the raw body).
 */
export type Auth = 'plugin' | 'admin' | 'metrics' | 'anonymous' | 'none' | 'stripe';

export type RouteContext = RouterContext<AppState>;

type Parsed<S> = S extends z.ZodType ? z.output<S> : never;

/** What the handler gets besides the context: the request validated by the declared schemas. */
export interface RouteInput<B, Q> {
  /**
   * The JSON body, validated by `body` (400 invalid_request naming every bad field). Called by the
   * handler when it wants it, so that e.g. "not your endpoint" (404) is still answered first.
   */
  body(): B;
  /** The query string, validated by `query`. */
  query(): Q;
}

export interface RouteDeclaration<B extends z.ZodType | undefined, Q extends z.ZodType | undefined> {
  method: Method;
  /** In Koa's syntax (`/api/v1/webhooks/:id`); the document shows `{id}`. */
  path: string;
  summary: string;
  auth: Auth;
  /** `plugin` routes: the scope a scoped API key needs; without it only the instance token may call. */
  scope?: Scope;
  /** `plugin` routes: a pending instance (not yet verified or approved) may call this one too. */
  whilePending?: boolean;
  /** Honours Idempotency-Key (after authentication: keys are per caller). */
  idempotent?: boolean;
  body?: B;
  query?: Q;
  /** The success body (`success: true` and the fields the plugin reads); tests check real answers. */
  response?: z.ZodType;
  /** The status the handler answers success with, when not 200 (201 created, 202 accepted). */
  status?: 201 | 202;
  /** Answers besides the success and the error body (e.g. 202: still processing), documented as given. */
  answers?: Record<number, { description: string; schema: z.ZodType }>;
  handler(ctx: RouteContext, input: RouteInput<Parsed<B>, Parsed<Q>>): Promise<void> | void;
}

/** A declared route, its schemas erased: what routers and the document are made from. */
export type Route = RouteDeclaration<z.ZodType | undefined, z.ZodType | undefined>;

export function route<
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
>(declaration: RouteDeclaration<B, Q>): Route {
  const { auth, scope, whilePending } = declaration;
  if (auth !== 'plugin' && (scope !== undefined || whilePending !== undefined)) {
    throw new Error(
      `${declaration.method} ${declaration.path}: scope and whilePending are for plugin routes`,
    );
  }
  return declaration as unknown as Route;
}

/** The middleware before the handler: authentication (and its limit), then Idempotency-Key. */
function guardsOf(declared: Route, guards: Guards): Middleware<AppState>[] {
  const auth: Record<Auth, () => Middleware<AppState>[]> = {
    plugin: () => [guards.plugin(declared.scope, { whilePending: declared.whilePending })],
    admin: () => [guards.admin(), ...(declared.method === 'get' ? [] : [guards.audit(declared)])],
    metrics: () => [guards.metrics()],
    anonymous: () => [guards.anonymous()],
    none: () => [],
    stripe: () => [],
  };
  return [...auth[declared.auth](), ...(declared.idempotent ? [guards.idempotent()] : [])];
}

function handlerOf(declared: Route): Middleware<AppState> {
  const { method, path, body, query } = declared;
  const undeclared = (what: string) => () => {
    throw new Error(`${method} ${path} declares no ${what}`);
  };
  return async (ctx) => {
    const routeCtx = ctx as RouteContext;
    await declared.handler(routeCtx, {
      body: body ? () => parseBody(routeCtx, body) : undeclared('body'),
      query: query ? () => parseQuery(routeCtx, query) : undeclared('query'),
    });
  };
}

/**
 * A router serving the routes in the order given: of two routes that match a request, the first
 * declared answers (so `/config/stripe` comes before `/config/:key`).
 */
export function routerFor(routes: readonly Route[], guards: Guards): Router<AppState> {
  const router = new Router<AppState>();
  for (const declared of routes) {
    router[declared.method](declared.path, ...guardsOf(declared, guards), handlerOf(declared));
  }
  return router;
}
