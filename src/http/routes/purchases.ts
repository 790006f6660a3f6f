import { z } from 'zod';
import { creditFieldsSchema } from '../../ledger/credit-fields';
import { beginPurchase } from '../../purchases/begin';
import { type PurchaseView, purchaseStatuses, statusReasons } from '../../purchases/model';
import { offSiteRedirects } from '../../purchases/redirects';
import { findPurchase, findPurchaseByStripeId, type PurchaseDoc } from '../../purchases/store';
import { type VerifyOutcome, verifyPurchase } from '../../purchases/verify';
import { queryPurchase } from '../../purchases/workflow-client';
import { type AppDeps, callerInstance } from '../context';
import { ApiError, notFound } from '../errors';
import { adminPurchasesQuery, purchaseListBody, purchaseListResponse } from '../purchase-list';
import { type Route, type RouteContext, route } from '../route';
import { emailField, userIdField } from '../schemas/common';

const money = {
  amount: z.number().int().positive(),
  currency: z.string().regex(/^[A-Za-z]{3}$/, { message: 'expected a 3-letter currency code' }),
};
const purchaseFields = {
  user_id: userIdField.transform((value) => String(value)),
  user_email: emailField,
  credit_type: z.string().min(1).max(32),
  package_id: z.string().min(1).max(64),
  ...money,
};

export const checkoutSessionRequest = z.object({
  ...purchaseFields,
  return_url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional(),
  cancel_url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional(),
});
export const createIntentRequest = z.object(purchaseFields);
/** The plugin also sends `user_id`, `credit_type`, `site_url` and `instance_id`: ignored, the purchase knows. */
export const confirmPaymentRequest = z.object({
  payment_intent_id: z.string().regex(/^pi_[A-Za-z0-9_]{1,200}$/, { message: 'expected a PaymentIntent id' }),
});
export const verifyCheckoutRequest = z.object({
  session_id: z.string().regex(/^cs_[A-Za-z0-9_]{1,200}$/, { message: 'expected a Checkout Session id' }),
});

/** `ajax_create_checkout_session()` needs HTTP 200, `success` and `url`. */
export const checkoutSessionResponse = z.object({
  success: z.literal(true),
  purchase_id: z.string(),
  session_id: z.string(),
  url: z.string(),
  amount: z.number().int(),
  currency: z.string(),
});
/** `create_payment_intent()` reads `client_secret`, `payment_intent_id`, `amount`, `currency`. */
export const createIntentResponse = z.object({
  success: z.literal(true),
  purchase_id: z.string(),
  payment_intent_id: z.string(),
  client_secret: z.string(),
  amount: z.number().int(),
  currency: z.string(),
});
/** `confirm_payment()` reads `success`, `credits_added`, `transaction_id`, `remaining_credits`. */
export const verifiedPurchaseResponse = (creditTypes: readonly string[]) =>
  z.object({
    success: z.literal(true),
    status: z.literal('fulfilled'),
    purchase_id: z.string(),
    credit_type: z.string(),
    credits_added: z.number().int(),
    remaining_credits: creditFieldsSchema(creditTypes).describe('The balances right after the grant'),
    transaction_id: z.string().nullable(),
    fulfilled_at: z.iso.datetime(),
  });
/** `GET /purchases/{id}`: the terms, the live status, and what happened after the sale when it did. */
/** Verify and confirm while the payment or the grant is still under way (202, `success: false`). */
export const processingResponse = z.object({
  success: z.literal(false),
  status: z.literal('processing'),
  purchase_id: z.string(),
  message: z.string(),
});

const stillProcessing = {
  202: { description: 'still processing: check again in a few seconds', schema: processingResponse },
};

export const purchaseResponse = z.object({
  success: z.literal(true),
  purchase_id: z.string(),
  status: z.enum(purchaseStatuses),
  credit_type: z.string(),
  credits: z.number().int(),
  amount: z.number().int(),
  currency: z.string(),
  created_at: z.iso.datetime(),
  fulfilled_at: z.iso.datetime().optional(),
  refunded_amount: z.number().int().optional(),
  dispute: z
    .object({ id: z.string(), status: z.enum(['open', 'won', 'lost']), credits_held: z.number().int() })
    .optional(),
  failure_reason: z.string().optional(),
  status_reason: z
    .enum(statusReasons)
    .optional()
    .describe(
      'Why it waits or failed: awaiting_payment, processing_at_stripe, stripe_unreachable, amount_mismatch, ...',
    ),
  status_reason_since: z.iso.datetime().optional(),
});
/** The purchase as the contract shows it: the workflow's live view when it answers, else the record. */
async function purchaseBody(deps: AppDeps, doc: PurchaseDoc) {
  const view: Partial<PurchaseView> =
    (await queryPurchase(deps.workflows, doc.purchase_id)) ?? doc.outcome ?? {};
  return {
    purchase_id: doc.purchase_id,
    status: view.status ?? doc.status,
    credit_type: doc.credit_type,
    credits: doc.credits,
    amount: doc.amount,
    currency: doc.currency,
    created_at: doc.created_at,
    ...(view.fulfilled_at ? { fulfilled_at: view.fulfilled_at } : {}),
    ...(view.refunded_amount ? { refunded_amount: view.refunded_amount } : {}),
    ...(view.dispute ? { dispute: view.dispute } : {}),
    ...(view.failure_reason ? { failure_reason: view.failure_reason } : {}),
    ...(view.status_reason ? { status_reason: view.status_reason } : {}),
    ...(view.status_reason_since ? { status_reason_since: view.status_reason_since } : {}),
  };
}

function ownPurchase(ctx: RouteContext, doc: PurchaseDoc | null): PurchaseDoc {
  // Another instance's purchase is as invisible as one that does not exist.
  if (!doc || doc.instance_id !== callerInstance(ctx).instance_id) throw notFound('Purchase not found');
  return doc;
}

export function purchaseRoutes(deps: AppDeps): Route[] {
  const types = deps.config.CREDIT_TYPES;
  const begin = { config: deps.config, db: deps.db, workflows: deps.workflows, stripe: deps.stripe };
  const verify = {
    workflows: deps.workflows,
    waitMs: deps.config.PAYMENT_VERIFY_WAIT_MS,
  };

  /** Verify and confirm answer alike: fulfilled (200), not paid (402), or still running (202). */
  const answer = (ctx: RouteContext, outcome: VerifyOutcome) => {
    const purchaseId = outcome.kind === 'fulfilled' ? outcome.answer.purchase_id : outcome.purchase_id;
    ctx.state.log.info({ purchase_id: purchaseId, outcome: outcome.kind }, 'payment verified');
    if (outcome.kind === 'fulfilled') {
      ctx.body = { success: true, ...outcome.answer };
      return;
    }
    if (outcome.kind === 'not_paid') {
      throw new ApiError(
        402,
        'payment_not_completed',
        `The payment is not completed (${outcome.payment_status})`,
        {
          payment_status: outcome.payment_status,
          purchase_id: outcome.purchase_id,
        },
      );
    }
    // `success: false` so that the plugin does not tell its user "credits added" yet.
    ctx.status = 202;
    ctx.body = {
      success: false,
      status: 'processing',
      purchase_id: outcome.purchase_id,
      message:
        outcome.reason === 'fulfilling'
          ? 'Payment received; the credits are being added. Check again in a few seconds.'
          : 'The payment is still being confirmed with Stripe. Check again in a few seconds.',
    };
  };

  /** Finds the caller's purchase by its Stripe object and verifies it (both routes answer alike). */
  const verifyByStripeId = async (
    ctx: RouteContext,
    field: 'stripe_checkout_session_id' | 'stripe_payment_intent_id',
    stripeId: string,
  ) => {
    const doc = await findPurchaseByStripeId(deps.db, field, stripeId);
    // Another instance's purchase is as unknown as one that does not exist.
    if (!doc || doc.instance_id !== callerInstance(ctx).instance_id) {
      throw new ApiError(404, 'session_not_found', 'No such checkout session or payment');
    }
    answer(ctx, await verifyPurchase(verify, doc, `recheck:${ctx.state.requestId}`));
  };

  return [
    route({
      method: 'post',
      path: '/api/v1/checkout/sessions',
      summary: 'Start a purchase with a Stripe Checkout Session',
      auth: 'plugin',
      scope: 'payments:write',
      idempotent: true,
      body: checkoutSessionRequest,
      response: checkoutSessionResponse,
      async handler(ctx, input) {
        const request = input.body();
        const siteUrl = callerInstance(ctx).site_url;
        const offSite = offSiteRedirects(siteUrl, request);
        if (offSite.length > 0) {
          throw new ApiError(400, 'invalid_request', `${offSite.join(' and ')} must be a page of ${siteUrl}`);
        }
        const created = await beginPurchase(
          begin,
          callerInstance(ctx),
          request,
          'checkout',
          ctx.state.idempotencyKey,
          ctx.state.requestId,
        );
        ctx.state.log.info({ purchase_id: created.purchase_id }, 'checkout session created');
        ctx.body = { success: true, ...created };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/payments/create-intent',
      summary: 'Start a purchase with a Stripe PaymentIntent',
      auth: 'plugin',
      scope: 'payments:write',
      idempotent: true,
      body: createIntentRequest,
      response: createIntentResponse,
      async handler(ctx, input) {
        const request = input.body();
        const created = await beginPurchase(
          begin,
          callerInstance(ctx),
          request,
          'payment_intent',
          ctx.state.idempotencyKey,
          ctx.state.requestId,
        );
        ctx.state.log.info({ purchase_id: created.purchase_id }, 'payment intent created');
        ctx.body = { success: true, ...created };
      },
    }),
    // The buyer is back from Checkout (the plugin's purchase page reads `session_id` from the URL).
    route({
      method: 'post',
      path: '/api/v1/checkout/verify',
      summary: 'The buyer is back from Checkout: have Stripe read now; 402 unpaid, 202 still processing',
      auth: 'plugin',
      scope: 'payments:write',
      body: verifyCheckoutRequest,
      response: verifiedPurchaseResponse(types),
      answers: stillProcessing,
      async handler(ctx, input) {
        const { session_id } = input.body();
        await verifyByStripeId(ctx, 'stripe_checkout_session_id', session_id);
      },
    }),
    // The plugin says "the buyer paid" for a PaymentIntent: the same check, never a grant of its own.
    route({
      method: 'post',
      path: '/api/v1/payments/confirm',
      summary: 'Have a PaymentIntent read from Stripe now; 402 unpaid, 202 still processing',
      auth: 'plugin',
      scope: 'payments:write',
      body: confirmPaymentRequest,
      response: verifiedPurchaseResponse(types),
      answers: stillProcessing,
      async handler(ctx, input) {
        const { payment_intent_id } = input.body();
        await verifyByStripeId(ctx, 'stripe_payment_intent_id', payment_intent_id);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/purchases/:purchaseId',
      summary: 'A purchase and its state',
      auth: 'plugin',
      scope: 'payments:read',
      response: purchaseResponse,
      async handler(ctx) {
        const doc = ownPurchase(ctx, await findPurchase(deps.db, ctx.params.purchaseId ?? ''));
        ctx.body = { success: true, ...(await purchaseBody(deps, doc)) };
      },
    }),
    route({
      method: 'get',
      path: '/admin/v1/purchases',
      summary: 'Find purchases, newest first (paged; since/until on created_at)',
      auth: 'admin',
      query: adminPurchasesQuery,
      response: purchaseListResponse,
      async handler(ctx, input) {
        ctx.body = { success: true, ...(await purchaseListBody(deps, input.query())) };
      },
    }),
  ];
}
