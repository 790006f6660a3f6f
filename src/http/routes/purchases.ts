import Router from '@koa/router';
import { z } from 'zod';
import type { PurchaseView } from '../../../workflows/purchase/definitions';
import { beginPurchase } from '../../purchases/begin';
import { findPurchase, findPurchaseByStripeId, listPurchases, type PurchaseDoc } from '../../purchases/store';
import { queryPurchase, signalPurchase } from '../../purchases/workflow-client';
import { type AppContext, type AppDeps, type AppState, callerInstance } from '../context';
import { ApiError, notFound } from '../errors';
import type { Guards } from '../guards';
import { emailField, userIdField } from '../schemas/common';
import { parseBody, parseQuery } from '../validate';

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
export const confirmPaymentRequest = z.object({
  payment_intent_id: z.string().regex(/^pi_[A-Za-z0-9_]{1,200}$/),
});
export const adminPurchasesQuery = z.object({
  user_email: z.string().max(254).optional(),
  instance_id: z.string().max(128).optional(),
  status: z.enum(['pending', 'paid', 'fulfilled', 'expired', 'failed', 'refunded', 'disputed']).optional(),
});

/** The purchase as the contract shows it: the workflow's live view when it answers, else the record. */
async function purchaseBody(deps: AppDeps, doc: PurchaseDoc) {
  const view: Partial<PurchaseView> =
    (await queryPurchase(deps.temporal.client, doc.purchase_id)) ?? doc.outcome ?? {};
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
  };
}

function ownPurchase(ctx: AppContext, doc: PurchaseDoc | null): PurchaseDoc {
  // Another instance's purchase is as invisible as one that does not exist.
  if (!doc || doc.instance_id !== callerInstance(ctx).instance_id) throw notFound('Purchase not found');
  return doc;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function purchaseRoutes(deps: AppDeps, guards: Guards): Router<AppState> {
  const router = new Router<AppState>();
  const begin = { config: deps.config, db: deps.db, temporal: deps.temporal.client, stripe: deps.stripe };

  router.post(
    '/api/v1/checkout/sessions',
    guards.plugin('payments:write'),
    guards.idempotent(),
    async (ctx) => {
      const request = parseBody(ctx, checkoutSessionRequest);
      const created = await beginPurchase(
        begin,
        callerInstance(ctx),
        request,
        'checkout',
        ctx.state.idempotencyKey,
      );
      ctx.state.log.info({ purchase_id: created.purchase_id }, 'checkout session created');
      ctx.status = 201;
      ctx.body = { success: true, ...created };
    },
  );

  router.post(
    '/api/v1/payments/create-intent',
    guards.plugin('payments:write'),
    guards.idempotent(),
    async (ctx) => {
      const request = parseBody(ctx, createIntentRequest);
      const created = await beginPurchase(
        begin,
        callerInstance(ctx),
        request,
        'payment_intent',
        ctx.state.idempotencyKey,
      );
      ctx.state.log.info({ purchase_id: created.purchase_id }, 'payment intent created');
      ctx.status = 201;
      ctx.body = { success: true, ...created };
    },
  );

  // The plugin says "the buyer paid": ask the workflow to read Stripe now (it does not trust this
  // call either), then wait briefly for the credits.
  router.post('/api/v1/payments/confirm', guards.plugin('payments:write'), async (ctx) => {
    const { payment_intent_id } = parseBody(ctx, confirmPaymentRequest);
    const doc = ownPurchase(
      ctx,
      await findPurchaseByStripeId(deps.db, 'stripe_payment_intent_id', payment_intent_id),
    );
    await signalPurchase(deps.temporal.client, deps.config.TEMPORAL_TASK_QUEUE, doc.purchase_id, {
      event_id: `recheck:${ctx.state.requestId}`,
      type: 'recheck',
      payment_intent_id,
    });
    let view: PurchaseView | undefined;
    for (let waited = 0; waited <= 5_000; waited += 250) {
      view = await queryPurchase(deps.temporal.client, doc.purchase_id);
      if (view && !['pending', 'paid'].includes(view.status)) break;
      await sleep(250);
    }
    const status = view?.status ?? doc.status;
    if (status === 'failed' || status === 'expired') {
      throw new ApiError(402, 'payment_failed', view?.failure_reason ?? `The payment is ${status}`, {
        status,
        purchase_id: doc.purchase_id,
      });
    }
    if (status === 'pending' || status === 'paid' || !view?.fulfilled_at) {
      ctx.status = 202;
      ctx.body = { success: true, status, purchase_id: doc.purchase_id };
      return;
    }
    ctx.body = {
      success: true,
      status,
      purchase_id: doc.purchase_id,
      credits_added: view.credits_added,
      credits: view.balances,
    };
  });

  router.get('/api/v1/purchases/:purchaseId', guards.plugin('payments:read'), async (ctx) => {
    const doc = ownPurchase(ctx, await findPurchase(deps.db, ctx.params.purchaseId ?? ''));
    ctx.body = { success: true, ...(await purchaseBody(deps, doc)) };
  });

  router.get('/admin/v1/purchases', guards.admin(), async (ctx) => {
    const filter = parseQuery(ctx, adminPurchasesQuery);
    const docs = await listPurchases(deps.db, filter);
    ctx.body = {
      success: true,
      purchases: docs.map(({ request_hash: _hash, ...doc }) => doc),
    };
  });

  return router;
}
