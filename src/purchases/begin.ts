import { createHash, randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { Config } from '../config';
import { creditsForPackage } from '../credits/rules';
import { packageStore } from '../packages/store';
import type { StripeGateway } from '../stripe/gateway';
import type { WorkflowStarter } from '../temporal/starter';
import type { InstanceDoc } from '../tenancy/instances';
import {
  AmountMismatchError,
  PackageCreditTypeError,
  PackageNotFoundError,
  PaymentNotConfiguredError,
} from './errors';
import type { PurchaseFlow } from './model';
import { checkoutCancelUrl, checkoutSuccessUrl } from './redirects';
import { attachStripeObject, findPurchase, insertPurchase, type PurchaseDoc } from './store';
import { startPurchaseWorkflow } from './workflow-client';

export interface PurchaseRequest {
  user_id: string;
  user_email: string;
  credit_type: string;
  package_id: string;
  amount: number;
  currency: string;
  return_url?: string;
  cancel_url?: string;
}

export interface BeginDeps {
  config: Config;
  db: Db;
  workflows: WorkflowStarter;
  stripe: StripeGateway | undefined;
}

// Stripe lets a Checkout Session live 24 hours at most; a PaymentIntent gets the same window.
const payWindowMs = 24 * 3600_000;

/** With an Idempotency-Key the purchase id is derived from it, so a retried request finds its purchase. */
function purchaseIdFor(instanceId: string, idempotencyKey: string | undefined): string {
  if (!idempotencyKey) return `pur_${randomUUID().replaceAll('-', '')}`;
  return `pur_${createHash('sha256').update(`${instanceId}\n${idempotencyKey}`).digest('hex').slice(0, 32)}`;
}

/**
 * Starts a purchase: checks the price against the package (the server never charges what the client
 * says), stores the terms, creates the Stripe object under an idempotency key derived from the
 * purchase, and starts the purchase workflow, which owns everything after this.
 */
export async function beginPurchase(
  deps: BeginDeps,
  instance: InstanceDoc,
  request: PurchaseRequest,
  flow: PurchaseFlow,
  idempotencyKey: string | undefined,
  /** The API request that began it: kept on the record and in the workflow's memo. */
  requestId?: string,
) {
  const stripe = deps.stripe;
  if (!stripe) throw new PaymentNotConfiguredError();

  const pack = await packageStore(deps.db).get(request.package_id);
  if (!pack?.active) throw new PackageNotFoundError(request.package_id);
  if (pack.credit_type !== request.credit_type) throw new PackageCreditTypeError(pack.credit_type);
  const currency = pack.price.currency.toUpperCase();
  if (pack.price.amount !== request.amount || currency !== request.currency.toUpperCase()) {
    throw new AmountMismatchError(pack.id, { amount: pack.price.amount, currency });
  }

  const purchaseId = purchaseIdFor(instance.instance_id, idempotencyKey);
  const now = new Date();
  const doc: PurchaseDoc = {
    purchase_id: purchaseId,
    instance_id: instance.instance_id,
    user_id: request.user_id,
    user_email: request.user_email,
    package_id: pack.id,
    credit_type: pack.credit_type,
    credits: creditsForPackage(pack),
    amount: pack.price.amount,
    currency: pack.price.currency.toUpperCase(),
    flow,
    created_at: now.toISOString(),
    pay_by: new Date(now.getTime() + payWindowMs).toISOString(),
    status: 'pending',
    updated_at: now,
    ...(requestId ? { request_id: requestId } : {}),
  };
  const stored = (await insertPurchase(deps.db, doc)) ? doc : await findPurchase(deps.db, purchaseId);
  if (!stored) throw new Error(`purchase ${purchaseId} vanished`);

  // The contract's metadata: enough for anyone reading the Stripe object to find the purchase.
  const metadataFields = [
    'purchase_id',
    'instance_id',
    'user_id',
    'user_email',
    'package_id',
    'credit_type',
  ] as const;
  const metadata = Object.fromEntries(metadataFields.map((field) => [field, String(stored[field])]));
  const stripeKey = `${flow}:${purchaseId}`;
  let result: Record<string, unknown>;
  if (flow === 'checkout') {
    const session = await stripe.createCheckoutSession({
      purchaseId,
      idempotencyKey: stripeKey,
      amount: stored.amount,
      currency: stored.currency,
      productName: pack.name,
      successUrl: checkoutSuccessUrl(instance.site_url, request.return_url),
      cancelUrl: checkoutCancelUrl(instance.site_url, request.cancel_url),
      customerEmail: request.user_email,
      metadata,
      expiresAt: new Date(stored.pay_by),
    });
    await attachStripeObject(deps.db, purchaseId, {
      stripe_checkout_session_id: session.id,
      checkout_url: session.url ?? undefined,
      pay_by: session.expiresAt,
    });
    result = { session_id: session.id, url: session.url };
  } else {
    const intent = await stripe.createPaymentIntent({
      idempotencyKey: stripeKey,
      amount: stored.amount,
      currency: stored.currency,
      metadata,
      receiptEmail: request.user_email,
      description: pack.name,
    });
    await attachStripeObject(deps.db, purchaseId, { stripe_payment_intent_id: intent.id });
    result = { payment_intent_id: intent.id, client_secret: intent.clientSecret };
  }

  await startPurchaseWorkflow(deps.workflows, { purchase_id: purchaseId }, stored, stored.request_id);
  return { purchase_id: purchaseId, ...result, amount: stored.amount, currency: stored.currency };
}
