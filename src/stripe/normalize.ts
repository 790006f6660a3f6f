import type Stripe from 'stripe';
import type {
  ChargeSnapshot,
  CheckoutSessionSnapshot,
  DisputeSnapshot,
  PaymentIntentSnapshot,
  StripeMetadata,
  StripeWebhookEvent,
} from './types';

// Raw Stripe objects → our plain snapshots. Fields are read defensively: stripe-mock returns
// fixtures and older API versions omit some fields, and a snapshot must never throw on them.

const isoFromUnix = (seconds: number | null | undefined): string =>
  new Date((seconds ?? 0) * 1000).toISOString();

const idOf = (value: string | { id: string } | null | undefined): string | null =>
  value == null ? null : typeof value === 'string' ? value : value.id;

function metadataOf(metadata: Stripe.Metadata | null | undefined): StripeMetadata {
  return { ...(metadata ?? {}) };
}

export function chargeSnapshot(charge: Stripe.Charge): ChargeSnapshot {
  return {
    id: charge.id,
    status: charge.status,
    paid: charge.paid,
    amount: charge.amount,
    amountCaptured: charge.amount_captured ?? 0,
    amountRefunded: charge.amount_refunded ?? 0,
    refunded: charge.refunded ?? false,
    disputed: charge.disputed ?? false,
    currency: charge.currency,
    paymentIntentId: idOf(charge.payment_intent),
    metadata: metadataOf(charge.metadata),
    failureCode: charge.failure_code ?? null,
    failureMessage: charge.failure_message ?? null,
    createdAt: isoFromUnix(charge.created),
  };
}

export function paymentIntentSnapshot(intent: Stripe.PaymentIntent): PaymentIntentSnapshot {
  const latestCharge = intent.latest_charge;
  const lastError = intent.last_payment_error;
  return {
    id: intent.id,
    status: intent.status,
    amount: intent.amount,
    amountReceived: intent.amount_received ?? 0,
    currency: intent.currency,
    metadata: metadataOf(intent.metadata),
    latestChargeId: idOf(latestCharge),
    latestCharge: latestCharge && typeof latestCharge === 'object' ? chargeSnapshot(latestCharge) : null,
    lastPaymentError: lastError
      ? {
          code: lastError.code ?? null,
          declineCode: lastError.decline_code ?? null,
          message: lastError.message ?? null,
        }
      : null,
    createdAt: isoFromUnix(intent.created),
  };
}

export function checkoutSessionSnapshot(session: Stripe.Checkout.Session): CheckoutSessionSnapshot {
  const intent = session.payment_intent;
  return {
    id: session.id,
    status: session.status,
    paymentStatus: session.payment_status,
    amountTotal: session.amount_total,
    currency: session.currency,
    clientReferenceId: session.client_reference_id,
    customerEmail: session.customer_email ?? session.customer_details?.email ?? null,
    paymentIntentId: idOf(intent),
    paymentIntent: intent && typeof intent === 'object' ? paymentIntentSnapshot(intent) : null,
    metadata: metadataOf(session.metadata),
    url: session.url,
    expiresAt: isoFromUnix(session.expires_at),
    createdAt: isoFromUnix(session.created),
  };
}

type EventObject = Record<string, unknown> & { id?: unknown; object?: unknown; metadata?: unknown };

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const refOrNull = (value: unknown): string | null =>
  typeof value === 'string'
    ? value
    : value && typeof value === 'object' && 'id' in value
      ? stringOrNull((value as { id: unknown }).id)
      : null;

/** Pulls the routing ids out of a verified event, whatever kind of object it carries. */
export function webhookEventSummary(event: Stripe.Event): StripeWebhookEvent {
  const object = event.data.object as unknown as EventObject;
  const objectType = stringOrNull(object.object) ?? 'unknown';
  const objectId = stringOrNull(object.id) ?? '';
  const metadata = (object.metadata && typeof object.metadata === 'object' ? object.metadata : {}) as Record<
    string,
    unknown
  >;
  const byType = (type: string) => (objectType === type ? objectId : null);
  return {
    id: event.id,
    type: event.type,
    createdAt: isoFromUnix(event.created),
    livemode: event.livemode,
    apiVersion: event.api_version ?? null,
    objectType,
    objectId,
    purchaseId: stringOrNull(metadata.purchase_id) ?? stringOrNull(object.client_reference_id),
    checkoutSessionId: byType('checkout.session'),
    paymentIntentId: byType('payment_intent') ?? refOrNull(object.payment_intent),
    chargeId: byType('charge') ?? refOrNull(object.charge) ?? refOrNull(object.latest_charge),
    object,
  };
}

export function disputeSnapshot(dispute: Stripe.Dispute): DisputeSnapshot {
  const idOf = (value: string | { id: string } | null | undefined) =>
    value == null ? null : typeof value === 'string' ? value : value.id;
  return {
    id: dispute.id,
    status: dispute.status,
    amount: dispute.amount,
    currency: dispute.currency,
    chargeId: idOf(dispute.charge),
    paymentIntentId: idOf(dispute.payment_intent),
  };
}
