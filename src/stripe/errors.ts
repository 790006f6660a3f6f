// One error type for everything that goes wrong talking to Stripe, so that activities can decide
// retry or give up from `retryable` alone, and nothing of the raw client (or the key) leaks out.

export type StripeFailureKind =
  | 'connection' // no answer, timeout, reset: Stripe may or may not have acted, retry with the same key
  | 'api' // Stripe's 5xx
  | 'rate_limit' // 429
  | 'conflict' // 409: a concurrent request with the same idempotency key is still running
  | 'invalid_request' // our parameters are wrong: retrying cannot help
  | 'not_found' // the object id does not exist (in this mode, for this key)
  | 'card' // the payment method was declined
  | 'authentication' // bad or revoked key
  | 'permission' // key lacks access
  | 'idempotency' // same key, different parameters
  | 'signature' // a webhook's Stripe-Signature did not verify
  | 'unknown';

const retryableKinds = new Set<StripeFailureKind>(['connection', 'api', 'rate_limit', 'conflict', 'unknown']);

export class StripeGatewayError extends Error {
  override readonly name = 'StripeGatewayError';
  readonly retryable: boolean;

  constructor(
    readonly kind: StripeFailureKind,
    message: string,
    readonly details: {
      statusCode?: number;
      /** Stripe's error code, e.g. `resource_missing`, `card_declined`. */
      code?: string;
      declineCode?: string;
      param?: string;
      requestId?: string;
      operation?: string;
    } = {},
  ) {
    super(message);
    this.retryable = retryableKinds.has(kind);
  }
}

// Stripe echoes a masked key in some messages and stripe-mock echoes it whole: strip every shape.
const keyPattern = /\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9*]+/g;
const bearerPattern = /Bearer\s+\S+/gi;

export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let clean = text;
  for (const secret of secrets) if (secret) clean = clean.split(secret).join('[redacted]');
  return clean.replace(keyPattern, '[redacted]').replace(bearerPattern, 'Bearer [redacted]');
}

interface StripeErrorLike {
  type?: string;
  rawType?: string;
  message?: string;
  statusCode?: number;
  code?: string;
  decline_code?: string;
  param?: string;
  requestId?: string;
}

function kindOf(error: StripeErrorLike): StripeFailureKind {
  switch (error.type) {
    case 'StripeConnectionError':
      return 'connection';
    case 'StripeRateLimitError':
      return 'rate_limit';
    case 'StripeCardError':
      return 'card';
    case 'StripeAuthenticationError':
      return 'authentication';
    case 'StripePermissionError':
      return 'permission';
    case 'StripeIdempotencyError':
      return 'idempotency';
    case 'StripeSignatureVerificationError':
      return 'signature';
  }
  const status = error.statusCode ?? 0;
  if (status >= 500) return 'api';
  if (status === 429) return 'rate_limit';
  if (status === 409) return 'conflict';
  if (status === 404 || error.code === 'resource_missing') return 'not_found';
  if (error.type === 'StripeAPIError') return 'api';
  if (error.type === 'StripeInvalidRequestError' || (status >= 400 && status < 500)) return 'invalid_request';
  return 'unknown';
}

/** Turns whatever the stripe client threw into a StripeGatewayError without the key in it. */
export function toGatewayError(
  error: unknown,
  operation: string,
  secrets: readonly string[],
): StripeGatewayError {
  if (error instanceof StripeGatewayError) return error;
  const stripeError = (typeof error === 'object' && error !== null ? error : {}) as StripeErrorLike;
  const isStripeError = typeof stripeError.type === 'string' && stripeError.type.startsWith('Stripe');
  const kind = isStripeError ? kindOf(stripeError) : 'unknown';
  const rawMessage = error instanceof Error ? error.message : String(error);
  return new StripeGatewayError(
    kind,
    `Stripe ${operation} failed (${kind}): ${redactSecrets(rawMessage, secrets)}`,
    {
      statusCode: stripeError.statusCode,
      code: stripeError.code,
      declineCode: stripeError.decline_code,
      param: stripeError.param,
      requestId: stripeError.requestId,
      operation,
    },
  );
}
