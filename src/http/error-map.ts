import { ZodError } from 'zod';
import { creditFields } from '../ledger/credit-fields';
import { IdempotencyConflictError, InsufficientCreditsError, LedgerBusyError } from '../ledger/errors';
import {
  AmountMismatchError,
  PackageCreditTypeError,
  PackageNotFoundError,
  PaymentNotConfiguredError,
} from '../purchases/errors';
import { StripeGatewayError } from '../stripe/errors';
import { AlreadyRegisteredError, RotationConflictError } from '../tenancy/instances';
import { maxEndpointsPerInstance, TooManyEndpointsError } from '../webhooks/endpoints';
import { EndpointDisabledError } from '../webhooks/replay';
import { ApiError, invalidRequest } from './errors';

// biome-ignore lint/suspicious/noExplicitAny: any constructor of an error class
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

/** How the contract answers one domain error. */
interface Answer<E extends Error> {
  error: ErrorClass<E>;
  /** Only errors of the class that this accepts (default: all of them). */
  when?: (error: E) => boolean;
  status: number;
  code: string;
  message: string | ((error: E) => string);
  /** Fields of the body beside `success`, `error` and `message`. */
  extra?: (error: E) => Record<string, unknown>;
  headers?: Record<string, string>;
}

const answer = <E extends Error>(entry: Answer<E>) => entry as unknown as Answer<Error>;
const ownMessage = (error: Error) => error.message;

/**
 * Every domain error the API answers, and how. Domain code (ledger, tenancy, purchases, webhooks,
 * stripe...) throws its own errors and knows nothing of HTTP; routes do not catch them to translate.
 * The first entry whose class (and `when`) matches decides.
 */
export const domainErrorAnswers: readonly Answer<Error>[] = [
  // Ledger
  answer({
    error: InsufficientCreditsError,
    status: 402,
    code: 'insufficient_credits',
    message: ownMessage,
    extra: (error) => ({ remaining_credits: creditFields(error.credits) }),
  }),
  answer({
    error: IdempotencyConflictError,
    status: 409,
    code: 'idempotency_conflict',
    message: 'This Idempotency-Key was already used with a different request',
  }),
  answer({
    error: LedgerBusyError,
    status: 503,
    code: 'ledger_busy',
    message: 'This account is busy; retry shortly',
    headers: { 'Retry-After': '1' },
  }),
  // Tenancy. No credentials to strangers: a registered id can only rotate, authenticated.
  answer({
    error: AlreadyRegisteredError,
    status: 409,
    code: 'already_registered',
    message: 'This instance_id is already registered',
  }),
  answer({
    error: RotationConflictError,
    status: 409,
    code: 'conflict',
    message: 'Another rotation is in progress; retry',
  }),
  // Webhooks
  answer({
    error: TooManyEndpointsError,
    status: 409,
    code: 'conflict',
    message: `An instance can register at most ${maxEndpointsPerInstance} endpoints`,
  }),
  answer({
    error: EndpointDisabledError,
    status: 409,
    code: 'endpoint_disabled',
    message: (error) =>
      `Nothing was replayed: webhook endpoint ${error.endpoints
        .map((e) => `${e.endpoint_id} of instance ${e.instance_id}`)
        .join(', ')} is disabled (it kept failing), so its deliveries would be dead-lettered unsent. ` +
      'Repeat the replay with "enable_endpoint": true to enable it and send, or enable it first: ' +
      'POST /admin/v1/webhooks/endpoints/{instance_id}/{endpoint_id}/enable (operators), ' +
      'POST /api/v1/webhooks/{id}/enable (the plugin).',
    extra: (error) => ({ disabled_endpoints: error.endpoints }),
  }),
  // Purchases
  answer({
    error: PaymentNotConfiguredError,
    status: 500,
    code: 'payment_not_configured',
    message: ownMessage,
  }),
  answer({ error: PackageNotFoundError, status: 404, code: 'package_not_found', message: ownMessage }),
  answer({ error: PackageCreditTypeError, status: 400, code: 'invalid_request', message: ownMessage }),
  answer({
    error: AmountMismatchError,
    status: 400,
    code: 'amount_mismatch',
    message: ownMessage,
    extra: (error) => ({ expected: error.expected }),
  }),
  // Stripe: only a webhook whose Stripe-Signature did not verify is the caller's fault; any other
  // failure talking to Stripe is ours (500).
  answer({
    error: StripeGatewayError,
    when: (error) => error.kind === 'signature',
    status: 400,
    code: 'invalid_signature',
    message: 'Missing or invalid Stripe-Signature',
  }),
];

/**
 * The one table from errors to the contract's answers. The error handler and the Idempotency-Key
 * middleware both read it, so a refusal (a 402, say) is stored under its key exactly as it is sent.
 * Undefined means "not a known error": a 500 with no detail.
 */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) return invalidRequest(error.issues);
  for (const entry of domainErrorAnswers) {
    if (!(error instanceof entry.error) || (entry.when && !entry.when(error))) continue;
    const message = typeof entry.message === 'string' ? entry.message : entry.message(error);
    return new ApiError(entry.status, entry.code, message, entry.extra?.(error) ?? {}, entry.headers ?? {});
  }
  return undefined;
}

/** The body every error answer has: `{success: false, error, message, ...}`. */
export function errorBody(error: ApiError) {
  return { success: false, error: error.code, message: error.message, ...error.extra };
}
