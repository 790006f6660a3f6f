import { invalidRequest, SandboxApiError } from './api-error';
import type { FaultInjector } from './faults';
import { jsonObject, type Route, type RouteContext, sendJson } from './http';
import type { PaymentLifecycle, SettleOutcome } from './lifecycle';
import type { EventObject, SandboxObject } from './objects';
import type { SandboxStore } from './store';
import { render } from './views';
import type { DispatchOptions, WebhookSender } from './webhooks';

// JSON endpoints under /_sandbox/ that play the parts Stripe plays outside the API: the buyer
// paying, the bank settling, the customer disputing, the operator refunding, and webhook delivery
// going wrong. Each answers after its events were delivered, so tests can assert right away.

export interface ControlDeps {
  store: SandboxStore;
  lifecycle: PaymentLifecycle;
  sender: WebhookSender;
  faults: FaultInjector;
  settleLater: (intentId: string, outcome: SettleOutcome, delayMs: number) => void;
}

type Body = Record<string, unknown>;

function dispatchOptions(body: Body): DispatchOptions {
  const options: DispatchOptions = {};
  if (body.send_webhooks !== undefined) {
    if (typeof body.send_webhooks !== 'boolean') throw invalidRequest('send_webhooks must be true or false');
    options.send = body.send_webhooks;
  }
  if (body.order !== undefined) {
    if (body.order !== 'created' && body.order !== 'reverse')
      throw invalidRequest('order must be created or reverse');
    options.order = body.order;
  }
  if (body.times !== undefined) options.times = positiveInt(body.times, 'times');
  return options;
}

function positiveInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalidRequest(`${name} must be a positive integer`);
  }
  return value;
}

function optionalText(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw invalidRequest(`${name} must be a non-empty string`);
  return value;
}

export function controlRoutes(deps: ControlDeps): Route[] {
  const { store, lifecycle, sender } = deps;

  const summary = (event: EventObject) => ({
    id: event.id,
    type: event.type,
    created: event.created,
    object_id: (event.data.object as { id?: string }).id ?? null,
    deliveries: sender.attempts.get(event.id) ?? [],
  });

  async function respond(ctx: RouteContext, object: SandboxObject, events: EventObject[], body: Body) {
    await sender.dispatch(events, dispatchOptions(body));
    sendJson(ctx.res, 200, { object: render(store, object), events: events.map(summary) });
  }

  const id = '([A-Za-z0-9_]+)';
  const post = (
    path: string,
    run: (ctx: RouteContext, ids: string[], body: Body) => Promise<void>,
  ): Route => ({
    method: 'POST',
    pattern: new RegExp(`^/_sandbox/${path}$`),
    handler: (ctx) => run(ctx, ctx.params, jsonObject(ctx.body)),
  });

  return [
    post(`checkout/sessions/${id}/pay`, async (ctx, [sessionId = ''], body) => {
      const outcome = body.outcome ?? 'succeeded';
      if (!['succeeded', 'processing', 'async_succeeded', 'async_failed'].includes(String(outcome))) {
        throw invalidRequest('outcome must be succeeded, processing, async_succeeded or async_failed');
      }
      dispatchOptions(body); // refuse bad options before anything changes
      const email = optionalText(body.email, 'email');
      const events = lifecycle.paySession(
        sessionId,
        outcome === 'succeeded' ? 'succeeded' : 'processing',
        email,
      );
      const session = lifecycle.session(sessionId);
      if (outcome === 'async_succeeded' || outcome === 'async_failed') {
        const settle: SettleOutcome = outcome === 'async_succeeded' ? 'succeeded' : 'failed';
        if (body.settle_after_ms === undefined)
          events.push(...lifecycle.settlePaymentIntent(session.payment_intent!, settle));
        else
          deps.settleLater(
            session.payment_intent!,
            settle,
            positiveInt(body.settle_after_ms, 'settle_after_ms'),
          );
      }
      await respond(ctx, session, events, body);
    }),
    post(`checkout/sessions/${id}/expire`, async (ctx, [sessionId = ''], body) => {
      dispatchOptions(body);
      const events = lifecycle.expireSession(sessionId);
      await respond(ctx, lifecycle.session(sessionId), events, body);
    }),
    post(`payment_intents/${id}/(succeed|fail)`, async (ctx, [intentId = '', verb], body) => {
      dispatchOptions(body);
      const declineCode = optionalText(body.decline_code, 'decline_code');
      const events = lifecycle.settlePaymentIntent(
        intentId,
        verb === 'succeed' ? 'succeeded' : 'failed',
        declineCode,
      );
      await respond(ctx, lifecycle.paymentIntent(intentId), events, body);
    }),
    post(`charges/${id}/refund`, async (ctx, [chargeId = ''], body) => {
      dispatchOptions(body);
      const amount = body.amount === undefined ? undefined : positiveInt(body.amount, 'amount');
      const { events } = lifecycle.refundCharge(
        chargeId,
        amount,
        optionalText(body.reason, 'reason') ?? null,
      );
      await respond(ctx, lifecycle.charge(chargeId), events, body);
    }),
    post(`charges/${id}/dispute`, async (ctx, [chargeId = ''], body) => {
      dispatchOptions(body);
      const { dispute, events } = lifecycle.openDispute(chargeId, optionalText(body.reason, 'reason'));
      await respond(ctx, dispute, events, body);
    }),
    post(`disputes/${id}/close`, async (ctx, [disputeId = ''], body) => {
      if (body.status !== 'won' && body.status !== 'lost') throw invalidRequest('status must be won or lost');
      dispatchOptions(body);
      const events = lifecycle.closeDispute(disputeId, body.status);
      await respond(ctx, lifecycle.dispute(disputeId), events, body);
    }),
    post('events/resend', async (ctx, _ids, body) => {
      const ids = body.ids;
      if (!Array.isArray(ids) || ids.length === 0 || ids.some((eventId) => typeof eventId !== 'string')) {
        throw invalidRequest('ids must be a non-empty array of event ids, in the order to send them');
      }
      const events = (ids as string[]).map((eventId) => {
        const event = store.state.events[eventId];
        if (!event)
          throw new SandboxApiError(
            404,
            'invalid_request_error',
            `No such event: '${eventId}'`,
            'resource_missing',
          );
        return event;
      });
      // Resending means sending, whatever the global switch says, unless the body says otherwise.
      await sender.dispatch(events, { send: true, ...dispatchOptions(body) });
      sendJson(ctx.res, 200, { events: events.map(summary) });
    }),
    {
      method: 'GET',
      pattern: /^\/_sandbox\/events$/,
      handler: (ctx) => {
        const query = new URLSearchParams(ctx.query);
        const type = query.get('type');
        const objectId = query.get('object_id');
        const events = store
          .newestFirst(store.state.events)
          .map(summary)
          .filter((event) => (!type || event.type === type) && (!objectId || event.object_id === objectId));
        sendJson(ctx.res, 200, { events });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/_sandbox/events/${id}$`),
      handler: (ctx) => {
        const event = store.state.events[ctx.params[0] ?? ''];
        if (!event)
          throw new SandboxApiError(404, 'invalid_request_error', 'No such event', 'resource_missing');
        sendJson(ctx.res, 200, { event, deliveries: sender.attempts.get(event.id) ?? [] });
      },
    },
    {
      method: 'GET',
      pattern: /^\/_sandbox\/webhooks$/,
      handler: (ctx) => sendJson(ctx.res, 200, sender.settings),
    },
    post('webhooks', async (ctx, _ids, body) => {
      if (body.enabled !== undefined && typeof body.enabled !== 'boolean')
        throw invalidRequest('enabled must be true or false');
      const url = body.url === null ? null : optionalText(body.url, 'url');
      if (url && !URL.canParse(url)) throw invalidRequest('url must be an absolute URL');
      sender.settings = {
        enabled: (body.enabled as boolean | undefined) ?? sender.settings.enabled,
        url: url === undefined ? sender.settings.url : url,
      };
      sendJson(ctx.res, 200, sender.settings);
    }),
    post('faults', async (ctx, _ids, body) => {
      const status = body.status === undefined ? undefined : positiveInt(body.status, 'status');
      const delayMs = body.delay_ms === undefined ? undefined : positiveInt(body.delay_ms, 'delay_ms');
      if (!status && !delayMs) throw invalidRequest('give status, delay_ms or both');
      deps.faults.add({
        status,
        delayMs,
        remaining: body.count === undefined ? 1 : positiveInt(body.count, 'count'),
        pathPrefix: optionalText(body.path_prefix, 'path_prefix') ?? '/v1/',
      });
      sendJson(ctx.res, 200, { faults: deps.faults.list() });
    }),
    {
      method: 'DELETE',
      pattern: /^\/_sandbox\/faults$/,
      handler: (ctx) => {
        deps.faults.clear();
        sendJson(ctx.res, 200, { faults: [] });
      },
    },
    post('reset', async (ctx) => {
      store.reset();
      sender.attempts.clear();
      deps.faults.clear();
      sendJson(ctx.res, 200, { reset: true });
    }),
  ];
}
