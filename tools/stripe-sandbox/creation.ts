import { invalidRequest, missingParam } from './api-error';
import type { FormObject, FormValue } from './form';
import { newId, unixNow } from './ids';
import type { CheckoutSessionObject, Metadata, PaymentIntentObject, SessionLineItem } from './objects';
import type { SandboxStore } from './store';

// POST /v1/checkout/sessions and POST /v1/payment_intents: the parameter checks Stripe makes that a
// caller can get wrong, with Stripe's messages, then the new objects.

const sessionParams = new Set([
  'mode',
  'line_items',
  'success_url',
  'cancel_url',
  'client_reference_id',
  'customer_email',
  'metadata',
  'payment_intent_data',
  'expires_at',
  'payment_method_types',
  'locale',
  'expand',
]);

const paymentIntentParams = new Set([
  'amount',
  'currency',
  'automatic_payment_methods',
  'metadata',
  'receipt_email',
  'description',
  'payment_method_types',
  'expand',
]);

// Stripe refuses charges below about 50 US cents; these are its published minimums for the
// currencies this project sells in. Others get a floor of 1.
const minimumAmounts: Record<string, number> = { usd: 50, eur: 50, gbp: 30, jpy: 50, cad: 50, aud: 50 };
const maximumAmount = 99_999_999;

function rejectUnknown(params: FormObject, allowed: Set<string>): void {
  for (const key of Object.keys(params)) {
    if (!allowed.has(key))
      throw invalidRequest(`Received unknown parameter: ${key}`, key, 'parameter_unknown');
  }
}

function optionalString(value: FormValue | undefined, param: string): string | null {
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string') throw invalidRequest(`Invalid string: ${param}`, param);
  return value;
}

function requiredString(value: FormValue | undefined, param: string): string {
  const text = optionalString(value, param);
  if (text === null) throw missingParam(param);
  return text;
}

function integer(value: FormValue | undefined, param: string, min: number): number {
  if (value === undefined) throw missingParam(param);
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) {
    throw invalidRequest(`Invalid integer: ${String(value)}`, param, 'parameter_invalid_integer');
  }
  const number = Number(value);
  if (number < min) throw invalidRequest(`This value must be greater than or equal to ${min}.`, param);
  return number;
}

function currency(value: FormValue | undefined, param: string): string {
  const code = requiredString(value, param).toLowerCase();
  if (!/^[a-z]{3}$/.test(code)) throw invalidRequest(`Invalid currency: ${code}.`, param);
  return code;
}

function amountInRange(amount: number, code: string, param: string): void {
  const minimum = minimumAmounts[code] ?? 1;
  if (amount < minimum) {
    throw invalidRequest(`Amount must be at least ${minimum} ${code}`, param, 'amount_too_small');
  }
  if (amount > maximumAmount) {
    throw invalidRequest(`Amount must be no more than ${maximumAmount} ${code}`, param, 'amount_too_large');
  }
}

export function metadata(value: FormValue | undefined, param = 'metadata'): Metadata {
  if (value === undefined || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequest('Invalid object', param);
  const entries = Object.entries(value);
  if (entries.length > 50) throw invalidRequest('Metadata can have at most 50 keys.', param);
  for (const [key, item] of entries) {
    if (typeof item !== 'string')
      throw invalidRequest(`Invalid metadata value for ${key}`, `${param}[${key}]`);
    if (key.length > 40)
      throw invalidRequest('Metadata keys can be at most 40 characters.', `${param}[${key}]`);
    if (item.length > 500)
      throw invalidRequest('Metadata values can be at most 500 characters.', `${param}[${key}]`);
  }
  return Object.fromEntries(entries) as Metadata;
}

function lineItems(value: FormValue | undefined): SessionLineItem[] {
  if (value === undefined) throw missingParam('line_items');
  if (!Array.isArray(value) || value.length === 0) throw invalidRequest('Invalid array', 'line_items');
  return value.map((raw, index) => {
    const param = `line_items[${index}]`;
    if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidRequest('Invalid object', param);
    const priceData = raw.price_data;
    if (raw.price !== undefined) {
      throw invalidRequest('The sandbox supports only price_data line items.', `${param}[price]`);
    }
    if (typeof priceData !== 'object' || Array.isArray(priceData)) throw missingParam(`${param}[price_data]`);
    const productData = priceData.product_data;
    if (typeof productData !== 'object' || Array.isArray(productData)) {
      throw missingParam(`${param}[price_data][product_data]`);
    }
    return {
      name: requiredString(productData.name, `${param}[price_data][product_data][name]`),
      unitAmount: integer(priceData.unit_amount, `${param}[price_data][unit_amount]`, 0),
      quantity: integer(raw.quantity, `${param}[quantity]`, 1),
      currency: currency(priceData.currency, `${param}[price_data][currency]`),
    };
  });
}

function expiresAt(value: FormValue | undefined, now: number): number {
  if (value === undefined) return now + 24 * 3600;
  const at = integer(value, 'expires_at', 0);
  // Stripe's window: at least 30 minutes and at most 24 hours after creation.
  if (at < now + 30 * 60 - 5) {
    throw invalidRequest(
      'The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.',
      'expires_at',
    );
  }
  if (at > now + 24 * 3600 + 5) {
    throw invalidRequest(
      'The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.',
      'expires_at',
    );
  }
  return at;
}

export function createCheckoutSession(
  store: SandboxStore,
  params: FormObject,
  publicUrl: string,
): CheckoutSessionObject {
  rejectUnknown(params, sessionParams);
  const mode = requiredString(params.mode, 'mode');
  if (mode !== 'payment') throw invalidRequest('The sandbox supports only mode=payment.', 'mode');
  const items = lineItems(params.line_items);
  const code = items[0]!.currency;
  if (items.some((item) => item.currency !== code)) {
    throw invalidRequest('All line items must use the same currency.', 'line_items');
  }
  const total = items.reduce((sum, item) => sum + item.unitAmount * item.quantity, 0);
  amountInRange(total, code, 'line_items');
  const intentData = params.payment_intent_data;
  if (intentData !== undefined && (typeof intentData !== 'object' || Array.isArray(intentData))) {
    throw invalidRequest('Invalid object', 'payment_intent_data');
  }
  const now = unixNow();
  const id = newId('cs_test', 58);
  const session: CheckoutSessionObject = {
    id,
    object: 'checkout.session',
    amount_subtotal: total,
    amount_total: total,
    cancel_url: optionalString(params.cancel_url, 'cancel_url'),
    success_url: requiredString(params.success_url, 'success_url'),
    client_reference_id: optionalString(params.client_reference_id, 'client_reference_id'),
    created: now,
    currency: code,
    customer: null,
    customer_email: optionalString(params.customer_email, 'customer_email'),
    customer_details: null,
    expires_at: expiresAt(params.expires_at, now),
    livemode: false,
    metadata: metadata(params.metadata),
    mode: 'payment',
    // Stripe creates the PaymentIntent only when the buyer pays (API versions since 2022-08-01).
    payment_intent: null,
    payment_method_types: ['card'],
    payment_status: 'unpaid',
    status: 'open',
    url: `${publicUrl}/checkout/${id}`,
  };
  store.add('sessions', session);
  store.state.sessionInternals[id] = {
    lineItems: items,
    paymentIntentMetadata: metadata(intentData?.metadata, 'payment_intent_data[metadata]'),
    paymentIntentDescription: optionalString(intentData?.description, 'payment_intent_data[description]'),
  };
  return session;
}

export function createPaymentIntent(store: SandboxStore, params: FormObject): PaymentIntentObject {
  rejectUnknown(params, paymentIntentParams);
  const code = currency(params.currency, 'currency');
  const amount = integer(params.amount, 'amount', 1);
  amountInRange(amount, code, 'amount');
  const automatic = params.automatic_payment_methods;
  const automaticEnabled =
    typeof automatic === 'object' && !Array.isArray(automatic) && automatic.enabled === 'true';
  const id = newId('pi');
  const intent: PaymentIntentObject = {
    id,
    object: 'payment_intent',
    amount,
    amount_capturable: 0,
    amount_received: 0,
    automatic_payment_methods: automaticEnabled ? { enabled: true } : null,
    canceled_at: null,
    capture_method: 'automatic',
    client_secret: `${id}_secret_${newId('x').slice(2)}`,
    confirmation_method: 'automatic',
    created: unixNow(),
    currency: code,
    description: optionalString(params.description, 'description'),
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: metadata(params.metadata),
    payment_method_types: ['card'],
    receipt_email: optionalString(params.receipt_email, 'receipt_email'),
    status: 'requires_payment_method',
  };
  store.add('paymentIntents', intent);
  return intent;
}
