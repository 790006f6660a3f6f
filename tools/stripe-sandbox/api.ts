import { createHash } from 'node:crypto';
import Stripe from 'stripe';
import { invalidRequest, noSuchObject, SandboxApiError } from './api-error';
import { authenticate } from './auth';
import { createCheckoutSession, createPaymentIntent } from './creation';
import type { FaultInjector } from './faults';
import { type FormObject, FormSyntaxError, parseStripeForm } from './form';
import { type RouteContext, sendJson, sendRawJson } from './http';
import { newId } from './ids';
import type { PaymentLifecycle } from './lifecycle';
import { expandPaths, listPage } from './list';
import type { EventObject, SandboxObject } from './objects';
import type { SandboxStore } from './store';
import { expand, render } from './views';

// The /v1 surface the gateway uses, in Stripe's wire format: form-encoded parameters, Bearer test
// keys, Idempotency-Key replay, Stripe-shaped errors and lists.

export interface ApiDeps {
  store: SandboxStore;
  lifecycle: PaymentLifecycle;
  faults: FaultInjector;
  publicUrl: () => string;
  apiKey?: string;
  /** Events produced by a call, delivered after the response like Stripe does. */
  dispatch: (events: EventObject[]) => void;
}

interface ApiResult {
  body: unknown;
  events?: EventObject[];
}

type ApiHandler = (params: FormObject, ids: string[], idempotencyKey: string | null) => ApiResult;

/** GET of one object by id, with `expand[]`. */
function retrieve(deps: ApiDeps, kind: string, collection: () => Record<string, SandboxObject>): ApiHandler {
  return (params, [id = '']) => {
    const object = collection()[id];
    if (!object) throw noSuchObject(kind, id);
    return { body: expand(deps.store, render(deps.store, object), expandPaths(params)) };
  };
}

function routes(deps: ApiDeps): Array<[string, RegExp, ApiHandler]> {
  const { store, lifecycle } = deps;
  const state = () => store.state;
  const id = '([A-Za-z0-9_]+)';
  return [
    [
      'POST',
      /^\/v1\/checkout\/sessions$/,
      (params) => ({ body: render(store, createCheckoutSession(store, params, deps.publicUrl())) }),
    ],
    [
      'GET',
      /^\/v1\/checkout\/sessions$/,
      (params) => ({ body: listPage(store, state().sessions, params, '/v1/checkout/sessions') }),
    ],
    [
      'GET',
      new RegExp(`^/v1/checkout/sessions/${id}$`),
      retrieve(deps, 'checkout.session', () => state().sessions),
    ],
    [
      'POST',
      new RegExp(`^/v1/checkout/sessions/${id}/expire$`),
      (params, [sessionId = ''], key) => {
        const events = lifecycle.expireSession(sessionId, key);
        return {
          body: expand(store, render(store, lifecycle.session(sessionId)), expandPaths(params)),
          events,
        };
      },
    ],
    [
      'POST',
      /^\/v1\/payment_intents$/,
      (params) => ({ body: render(store, createPaymentIntent(store, params)) }),
    ],
    [
      'GET',
      /^\/v1\/payment_intents$/,
      (params) => ({ body: listPage(store, state().paymentIntents, params, '/v1/payment_intents') }),
    ],
    [
      'GET',
      new RegExp(`^/v1/payment_intents/${id}$`),
      retrieve(deps, 'payment_intent', () => state().paymentIntents),
    ],
    [
      'POST',
      new RegExp(`^/v1/payment_intents/${id}/cancel$`),
      (_params, [intentId = ''], key) => {
        const events = lifecycle.cancelPaymentIntent(intentId, key);
        return { body: render(store, lifecycle.paymentIntent(intentId)), events };
      },
    ],
    ['GET', new RegExp(`^/v1/charges/${id}$`), retrieve(deps, 'charge', () => state().charges)],
    ['GET', new RegExp(`^/v1/refunds/${id}$`), retrieve(deps, 'refund', () => state().refunds)],
    ['GET', new RegExp(`^/v1/disputes/${id}$`), retrieve(deps, 'dispute', () => state().disputes)],
    [
      'GET',
      /^\/v1\/events$/,
      (params) => {
        const { type, ...rest } = params;
        return {
          body: listPage(
            store,
            state().events,
            rest,
            '/v1/events',
            (event) => type === undefined || event.type === type,
          ),
        };
      },
    ],
    [
      'GET',
      new RegExp(`^/v1/events/${id}$`),
      (_params, [eventId = '']) => {
        const event = state().events[eventId];
        if (!event) throw noSuchObject('event', eventId);
        return { body: event };
      },
    ],
  ];
}

const fingerprint = (method: string, path: string, body: string) =>
  createHash('sha256').update(`${method} ${path}\n${body}`).digest('hex');

export function createApiHandler(deps: ApiDeps) {
  const table = routes(deps);

  return async function handleApi(ctx: RouteContext, path: string): Promise<void> {
    const method = ctx.req.method ?? 'GET';
    const headers: Record<string, string> = {
      'Request-Id': newId('req', 14),
      'Stripe-Version': String(ctx.req.headers['stripe-version'] ?? Stripe.API_VERSION),
    };
    const rawKey = ctx.req.headers['idempotency-key'];
    const idempotencyKey = typeof rawKey === 'string' && rawKey !== '' ? rawKey : null;
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
    try {
      await deps.faults.apply(path);
      const apiKey = authenticate(ctx.req, deps.apiKey);
      const route = table.find(([routeMethod, pattern]) => routeMethod === method && pattern.test(path));
      if (!route) {
        throw new SandboxApiError(
          404,
          'invalid_request_error',
          `Unrecognized request URL (${method}: ${path}).`,
        );
      }
      if (idempotencyKey && idempotencyKey.length > 255) {
        throw invalidRequest('Idempotency-Key must be at most 255 characters.', 'Idempotency-Key');
      }
      const params = parseStripeForm(method === 'GET' ? ctx.query : ctx.body);

      // Stripe keeps a key's first successful answer for a day and replays it for the same request.
      const cacheKey = idempotencyKey && method === 'POST' ? `${apiKey}:${idempotencyKey}` : null;
      const print = fingerprint(method, path, ctx.body);
      const cached = cacheKey ? deps.store.state.idempotency[cacheKey] : undefined;
      if (cached) {
        if (cached.fingerprint !== print) {
          throw new SandboxApiError(
            400,
            'idempotency_error',
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
          );
        }
        sendRawJson(ctx.res, cached.status, cached.body, { ...headers, 'Idempotent-Replayed': 'true' });
        return;
      }

      const ids = route[1].exec(path)?.slice(1) ?? [];
      const result = route[2](params, ids, idempotencyKey);
      const text = `${JSON.stringify(result.body, null, 2)}\n`;
      if (cacheKey) {
        deps.store.state.idempotency[cacheKey] = { fingerprint: print, status: 200, body: text };
        deps.store.changed();
      }
      sendRawJson(ctx.res, 200, text, headers);
      if (result.events?.length) deps.dispatch(result.events);
    } catch (error) {
      const apiError =
        error instanceof SandboxApiError
          ? error
          : error instanceof FormSyntaxError
            ? invalidRequest(error.message)
            : new SandboxApiError(500, 'api_error', 'The sandbox hit an internal error.');
      if (!(error instanceof SandboxApiError) && !(error instanceof FormSyntaxError))
        console.error('[stripe-sandbox]', error);
      sendJson(ctx.res, apiError.status, apiError.toBody(), headers);
    }
  };
}
