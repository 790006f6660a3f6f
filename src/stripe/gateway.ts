import type Stripe from 'stripe';
import { createStripeClient, type StripeClientOptions } from './client';
import { normalizeCurrency } from './currency';
import { redactSecrets, StripeGatewayError, toGatewayError } from './errors';
import {
  chargeSnapshot,
  checkoutSessionSnapshot,
  disputeSnapshot,
  paymentIntentSnapshot,
  webhookEventSummary,
} from './normalize';
import type {
  ChargeSnapshot,
  CheckoutSessionSnapshot,
  CreatedPaymentIntent,
  DisputeSnapshot,
  PaymentIntentSnapshot,
  RecentList,
  StripeMetadata,
  StripeWebhookEvent,
} from './types';

export interface CheckoutSessionRequest {
  purchaseId: string;
  idempotencyKey: string;
  /** The total to charge, in minor units; with a quantity it must divide evenly. */
  amount: number;
  currency: string;
  productName: string;
  quantity?: number;
  successUrl: string;
  cancelUrl: string;
  customerEmail: string;
  metadata: StripeMetadata;
  /** Stripe accepts 30 minutes to 24 hours from now; default is 24 hours. */
  expiresAt?: Date;
}

export interface PaymentIntentRequest {
  idempotencyKey: string;
  amount: number;
  currency: string;
  metadata: StripeMetadata;
  receiptEmail?: string;
  description?: string;
}

export interface RecentListRequest {
  createdSince: Date;
  /** Upper bound on objects returned (pages are fetched until it is reached). */
  limit: number;
}

/** Webhook timestamps older than this are refused, as Stripe recommends (replay protection). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export type StripeGateway = ReturnType<typeof createStripeGateway>;

export function createStripeGateway(options: StripeClientOptions) {
  const stripe = createStripeClient(options);
  const secrets = [options.secretKey];

  async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toGatewayError(error, operation, secrets);
    }
  }

  async function listBounded<Raw extends { id: string }, Out>(
    operation: string,
    openList: () => Stripe.ApiListPromise<Raw>,
    limit: number,
    toSnapshot: (raw: Raw) => Out,
  ): Promise<RecentList<Out>> {
    return call(operation, async () => {
      const items: Out[] = [];
      // Reading one past the bound tells the reconciler whether it saw everything.
      for await (const raw of openList()) {
        if (items.length === limit) return { items, hasMore: true };
        items.push(toSnapshot(raw));
      }
      return { items, hasMore: false };
    });
  }

  return {
    async createCheckoutSession(request: CheckoutSessionRequest): Promise<CheckoutSessionSnapshot> {
      const quantity = request.quantity ?? 1;
      assertMinorUnits(request.amount, 'amount');
      assertIdempotencyKey(request.idempotencyKey);
      if (!Number.isInteger(quantity) || quantity < 1 || request.amount % quantity !== 0) {
        throw invalid('quantity must be a positive integer that divides amount');
      }
      const metadata = { ...request.metadata, purchase_id: request.purchaseId };
      const params: Stripe.Checkout.SessionCreateParams = {
        mode: 'payment',
        client_reference_id: request.purchaseId,
        customer_email: request.customerEmail,
        success_url: request.successUrl,
        cancel_url: request.cancelUrl,
        line_items: [
          {
            quantity,
            price_data: {
              currency: normalizeCurrency(request.currency),
              unit_amount: request.amount / quantity,
              product_data: { name: request.productName },
            },
          },
        ],
        metadata,
        // The PaymentIntent (and its charges, refunds, disputes) carry the purchase id too, so
        // events about them can be routed without a lookup.
        payment_intent_data: { metadata },
        ...(request.expiresAt ? { expires_at: Math.floor(request.expiresAt.getTime() / 1000) } : {}),
      };
      const session = await call('checkout.sessions.create', () =>
        stripe.checkout.sessions.create(params, { idempotencyKey: request.idempotencyKey }),
      );
      return checkoutSessionSnapshot(session);
    },

    async createPaymentIntent(request: PaymentIntentRequest): Promise<CreatedPaymentIntent> {
      assertMinorUnits(request.amount, 'amount');
      assertIdempotencyKey(request.idempotencyKey);
      const params: Stripe.PaymentIntentCreateParams = {
        amount: request.amount,
        currency: normalizeCurrency(request.currency),
        automatic_payment_methods: { enabled: true },
        metadata: request.metadata,
        ...(request.receiptEmail ? { receipt_email: request.receiptEmail } : {}),
        ...(request.description ? { description: request.description } : {}),
      };
      const intent = await call('payment_intents.create', () =>
        stripe.paymentIntents.create(params, { idempotencyKey: request.idempotencyKey }),
      );
      if (!intent.client_secret) {
        throw new StripeGatewayError('api', 'Stripe payment_intents.create returned no client_secret');
      }
      return { ...paymentIntentSnapshot(intent), clientSecret: intent.client_secret };
    },

    async retrieveCheckoutSession(id: string): Promise<CheckoutSessionSnapshot> {
      const session = await call('checkout.sessions.retrieve', () =>
        stripe.checkout.sessions.retrieve(id, { expand: ['payment_intent'] }),
      );
      return checkoutSessionSnapshot(session);
    },

    async retrievePaymentIntent(id: string): Promise<PaymentIntentSnapshot> {
      const intent = await call('payment_intents.retrieve', () =>
        stripe.paymentIntents.retrieve(id, { expand: ['latest_charge'] }),
      );
      return paymentIntentSnapshot(intent);
    },

    async retrieveCharge(id: string): Promise<ChargeSnapshot> {
      const charge = await call('charges.retrieve', () => stripe.charges.retrieve(id));
      return chargeSnapshot(charge);
    },

    async expireCheckoutSession(id: string): Promise<CheckoutSessionSnapshot> {
      const session = await call('checkout.sessions.expire', () => stripe.checkout.sessions.expire(id));
      return checkoutSessionSnapshot(session);
    },

    /** Cancels an unpaid PaymentIntent (a purchase past its deadline); fails if it is already paid. */
    async cancelPaymentIntent(id: string): Promise<PaymentIntentSnapshot> {
      const intent = await call('payment_intents.cancel', () => stripe.paymentIntents.cancel(id));
      return paymentIntentSnapshot(intent);
    },

    async retrieveDispute(id: string): Promise<DisputeSnapshot> {
      const dispute = await call('disputes.retrieve', () => stripe.disputes.retrieve(id));
      return disputeSnapshot(dispute);
    },

    listRecentCheckoutSessions(request: RecentListRequest): Promise<RecentList<CheckoutSessionSnapshot>> {
      assertListBound(request.limit);
      const openList = () =>
        stripe.checkout.sessions.list({
          created: { gte: unixSeconds(request.createdSince) },
          limit: Math.min(request.limit + 1, 100),
          expand: ['data.payment_intent'],
        });
      return listBounded('checkout.sessions.list', openList, request.limit, checkoutSessionSnapshot);
    },

    listRecentPaymentIntents(request: RecentListRequest): Promise<RecentList<PaymentIntentSnapshot>> {
      assertListBound(request.limit);
      const openList = () =>
        stripe.paymentIntents.list({
          created: { gte: unixSeconds(request.createdSince) },
          limit: Math.min(request.limit + 1, 100),
        });
      return listBounded('payment_intents.list', openList, request.limit, paymentIntentSnapshot);
    },

    /** Checks Stripe-Signature over the exact bytes received; throws kind `signature` if it fails. */
    verifyWebhookEvent(rawBody: Buffer, signatureHeader: string, webhookSecret: string): StripeWebhookEvent {
      try {
        // Stripe's check bounds a signature's age only: one signed for later is refused here too.
        const signedAt = Number(/(?:^|,)t=(\d+)/.exec(signatureHeader)?.[1]);
        if (signedAt > Date.now() / 1000 + WEBHOOK_TOLERANCE_SECONDS) {
          throw new Error('Timestamp is in the future, beyond the tolerance');
        }
        const event = stripe.webhooks.constructEvent(
          rawBody,
          signatureHeader,
          webhookSecret,
          WEBHOOK_TOLERANCE_SECONDS,
        );
        // Inside the try: a signed payload that is not a Stripe event is refused like a bad signature.
        return webhookEventSummary(event);
      } catch (error) {
        const reason = error instanceof SyntaxError ? 'payload is not JSON' : (error as Error).message;
        throw new StripeGatewayError(
          'signature',
          `Stripe webhook did not verify: ${redactSecrets(reason, [webhookSecret, ...secrets])}`,
          { operation: 'webhooks.constructEvent' },
        );
      }
    },
  };
}

function invalid(message: string): StripeGatewayError {
  return new StripeGatewayError('invalid_request', message);
}

function assertMinorUnits(amount: number, field: string): void {
  if (!Number.isSafeInteger(amount) || amount < 1) {
    throw invalid(`${field} must be a positive integer in the currency's minor unit`);
  }
}

function assertIdempotencyKey(key: string): void {
  if (key.length < 1 || key.length > 255) throw invalid('idempotencyKey must be 1-255 characters');
}

function assertListBound(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw invalid('limit must be a positive integer');
}

const unixSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/** The gateway the configuration asks for: none without STRIPE_SECRET_KEY. */
export function stripeGatewayFromConfig(config: {
  STRIPE_SECRET_KEY?: string;
  STRIPE_API_URL?: string;
}): StripeGateway | undefined {
  if (!config.STRIPE_SECRET_KEY) return undefined;
  return createStripeGateway({ secretKey: config.STRIPE_SECRET_KEY, apiUrl: config.STRIPE_API_URL });
}
