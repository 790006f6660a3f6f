import { IdempotencyConflictError, InsufficientCreditsError, LedgerBusyError } from '../ledger/errors';
import { ApiError } from './errors';

/** The ledger's typed errors, as the API contract names them. */
export function domainToApiError(error: unknown): ApiError | undefined {
  if (error instanceof InsufficientCreditsError) {
    return new ApiError(402, 'insufficient_credits', error.message, { credits: error.credits });
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
