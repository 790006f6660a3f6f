// Plain-data views of Stripe objects: what workflows and routes need, JSON-safe (times are ISO
// strings, amounts integers in minor units, currencies lowercase as Stripe writes them), so they
// can travel through Temporal payloads unchanged.

export type StripeMetadata = Record<string, string>;

export interface ChargeSnapshot {
  id: string;
  /** succeeded, pending, failed */
  status: string;
  paid: boolean;
  amount: number;
  amountCaptured: number;
  amountRefunded: number;
  refunded: boolean;
  disputed: boolean;
  currency: string;
  paymentIntentId: string | null;
  metadata: StripeMetadata;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: string;
}

export interface PaymentIntentSnapshot {
  id: string;
  /** requires_payment_method, requires_confirmation, requires_action, processing, requires_capture, canceled, succeeded */
  status: string;
  amount: number;
  amountReceived: number;
  currency: string;
  metadata: StripeMetadata;
  latestChargeId: string | null;
  /** Present when the charge was expanded (retrievePaymentIntent does). */
  latestCharge: ChargeSnapshot | null;
  lastPaymentError: { code: string | null; declineCode: string | null; message: string | null } | null;
  createdAt: string;
}

/** A new PaymentIntent also carries the client secret the browser needs; nothing else returns it. */
export interface CreatedPaymentIntent extends PaymentIntentSnapshot {
  clientSecret: string;
}

export interface CheckoutSessionSnapshot {
  id: string;
  /** open, complete, expired */
  status: string | null;
  /** paid, unpaid, no_payment_required */
  paymentStatus: string;
  amountTotal: number | null;
  currency: string | null;
  clientReferenceId: string | null;
  customerEmail: string | null;
  paymentIntentId: string | null;
  /** Present when the PaymentIntent was expanded (retrieve and list do). */
  paymentIntent: PaymentIntentSnapshot | null;
  metadata: StripeMetadata;
  /** Hosted page to send the buyer to; null once the session is no longer open. */
  url: string | null;
  expiresAt: string;
  createdAt: string;
}

/** A verified webhook event, with the ids a router needs to find the purchase it belongs to. */
export interface StripeWebhookEvent {
  id: string;
  type: string;
  createdAt: string;
  livemode: boolean;
  apiVersion: string | null;
  /** `object` of data.object, e.g. checkout.session, payment_intent, charge, dispute. */
  objectType: string;
  objectId: string;
  /** metadata.purchase_id, or client_reference_id of a Checkout Session. */
  purchaseId: string | null;
  checkoutSessionId: string | null;
  paymentIntentId: string | null;
  chargeId: string | null;
  /** data.object as sent: for logs only, never as proof of payment (read it back from Stripe). */
  object: Record<string, unknown>;
}

export interface RecentList<T> {
  items: T[];
  /** More objects matched than the bound allowed: run again with a later createdSince. */
  hasMore: boolean;
}

export interface DisputeSnapshot {
  id: string;
  /** warning_needs_response, warning_under_review, warning_closed, needs_response, under_review, won, lost */
  status: string;
  amount: number;
  currency: string;
  chargeId: string | null;
  paymentIntentId: string | null;
}
