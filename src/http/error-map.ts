import { ZodError } from 'zod';
import { creditFields } from '../ledger/credit-fields';
import { IdempotencyConflictError, InsufficientCreditsError, LedgerBusyError } from '../ledger/errors';
import { ApiError, invalidRequest } from './errors';

/**
 * The one table from errors to the contract's answers. The error handler and the Idempotency-Key
 * middleware both read it, so a refusal (a 402, say) is stored under its key exactly as it is sent.
 * Undefined means "not a known error": a 500 with no detail.
 */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) return invalidRequest(error.issues);
  if (error instanceof InsufficientCreditsError) {
    return new ApiError(402, 'insufficient_credits', error.message, {
      remaining_credits: creditFields(error.credits),
    });
  }
  if (error instanceof IdempotencyConflictError) {
    return new ApiError(
      409,
      'idempotency_conflict',
      'This Idempotency-Key was already used with a different request',
    );
  }
  if (error instanceof LedgerBusyError) {
    return new ApiError(
      503,
      'ledger_busy',
      'This account is busy; retry shortly',
      {},
      { 'Retry-After': '1' },
    );
  }
  return undefined;
}

/** The body every error answer has: `{success: false, error, message, ...}`. */
export function errorBody(error: ApiError) {
  return { success: false, error: error.code, message: error.message, ...error.extra };
}
