import { z } from 'zod';
import { purchaseEventTypes, type StripeEventSignal } from '../../../workflows/purchase/contract';
import { findPurchase, findPurchaseByStripeId } from '../../purchases/store';
import { signalPurchase } from '../../purchases/workflow-client';
import type { StripeWebhookEvent } from '../../stripe/types';
import { pingTemporal } from '../../temporal/client';
import type { AppDeps, AppState } from '../context';
import { ApiError } from '../errors';
import { type Route, type RouteContext, route } from '../route';

const actedOn = new Set<string>(purchaseEventTypes);

/** `handled` is false (and no `purchase_id`) for an event type or purchase the backend ignores. */
export const stripeWebhookResponse = z.object({
  success: z.literal(true),
  received: z.literal(true),
  handled: z.boolean(),
  purchase_id: z.string().optional(),
});
/** The 200 answer; a 503 has `success: false`, `status: 'unavailable'`, `error` and `message`. */
export const stripeWebhookHealthResponse = z.object({
  success: z.literal(true),
  status: z.literal('ok'),
  configured: z.literal(true),
  temporal: z.literal('ok'),
  events_acted_on: z.array(z.string()),
});

/**
 * Which purchase an event is about. Stripe's own links come first: the Checkout Session or the
 * PaymentIntent we stored with a purchase (a charge, refund or dispute names its PaymentIntent).
 * Metadata is only a copy we wrote, so it decides only when those links find nothing; metadata that
 * names another purchase than the links is logged and ignored.
 */
async function purchaseOf(
  deps: AppDeps,
  event: StripeWebhookEvent,
  log: AppState['log'],
): Promise<string | undefined> {
  const linked =
    (event.checkoutSessionId &&
      (await findPurchaseByStripeId(deps.db, 'stripe_checkout_session_id', event.checkoutSessionId))) ||
    (event.paymentIntentId &&
      (await findPurchaseByStripeId(deps.db, 'stripe_payment_intent_id', event.paymentIntentId))) ||
    undefined;
  if (linked) {
    if (event.purchaseId && event.purchaseId !== linked.purchase_id) {
      log.warn(
        { purchase_id: linked.purchase_id, metadata_purchase_id: event.purchaseId.slice(0, 64) },
        'Stripe event metadata names another purchase than its payment; routed by the payment',
      );
    }
    return linked.purchase_id;
  }
  if (event.purchaseId && (await findPurchase(deps.db, event.purchaseId))) return event.purchaseId;
  // A charge, refund or dispute names only its PaymentIntent, and the purchase record carries it only
  // once its workflow saved the payment: one that comes sooner (a dispute seconds after fulfilment)
  // would be acknowledged and lost. Stripe's own PaymentIntent says which purchase it paid for (the
  // metadata we gave it at checkout); a Stripe failure here answers 5xx, so Stripe retries.
  if (event.paymentIntentId && !event.checkoutSessionId && deps.stripe) {
    const intent = await deps.stripe.retrievePaymentIntent(event.paymentIntentId);
    const named = intent.metadata.purchase_id;
    if (named && (await findPurchase(deps.db, named))) return named;
  }
  return undefined;
}

export function stripeWebhookRoutes(deps: AppDeps): Route[] {
  return [
    route({
      method: 'post',
      path: '/api/v1/stripe/webhook',
      summary: 'Stripe events (Stripe-Signature over the raw body)',
      auth: 'stripe',
      response: stripeWebhookResponse,
      handler: (ctx) => receiveStripeEvent(deps, ctx),
    }),
    route({
      method: 'get',
      path: '/api/v1/stripe/webhook/health',
      summary: 'Whether Stripe events can be accepted',
      auth: 'none',
      response: stripeWebhookHealthResponse,
      handler: (ctx) => stripeWebhookHealth(deps, ctx),
    }),
  ];
}

/**
 * Verifies the signature over the raw bytes, then hands the event to its purchase workflow.
 * 200 only once Temporal holds it; any failure before that is a 5xx so that Stripe retries.
 */
async function receiveStripeEvent(deps: AppDeps, ctx: RouteContext): Promise<void> {
  const secret = deps.config.STRIPE_WEBHOOK_SECRET;
  if (!deps.stripe || !secret) {
    throw new ApiError(503, 'payment_not_configured', 'Stripe webhooks are not configured');
  }
  // A signature that does not verify is 400 invalid_signature (http/error-map.ts).
  const event = deps.stripe.verifyWebhookEvent(
    ctx.state.rawBody ?? Buffer.alloc(0),
    ctx.get('Stripe-Signature'),
    secret,
  );
  const log = ctx.state.log.child({ stripe_event_id: event.id, stripe_event_type: event.type });
  if (!actedOn.has(event.type)) {
    ctx.body = { success: true, received: true, handled: false };
    return;
  }
  const purchaseId = await purchaseOf(deps, event, log);
  if (!purchaseId) {
    log.warn('Stripe event for no known purchase; acknowledged and ignored');
    ctx.body = { success: true, received: true, handled: false };
    return;
  }
  const signal: StripeEventSignal = {
    event_id: event.id,
    type: event.type,
    checkout_session_id: event.checkoutSessionId,
    payment_intent_id: event.paymentIntentId,
    charge_id: event.chargeId,
    dispute_id: event.objectType === 'dispute' ? event.objectId : null,
  };
  await signalPurchase(deps.workflows, purchaseId, signal);
  log.info({ purchase_id: purchaseId }, 'Stripe event handed to the purchase workflow');
  ctx.body = { success: true, received: true, handled: true, purchase_id: purchaseId };
}

async function stripeWebhookHealth(deps: AppDeps, ctx: RouteContext): Promise<void> {
  const configured = Boolean(deps.stripe && deps.config.STRIPE_WEBHOOK_SECRET);
  const temporal = await pingTemporal(deps.temporal);
  const ready = configured && temporal;
  ctx.status = ready ? 200 : 503;
  ctx.body = {
    success: ready,
    status: ready ? 'ok' : 'unavailable',
    configured,
    temporal: temporal ? 'ok' : 'down',
    events_acted_on: [...actedOn].filter((type) => type !== 'recheck'),
    ...(ready ? {} : { error: 'unavailable', message: 'Stripe webhooks cannot be accepted right now' }),
  };
}
