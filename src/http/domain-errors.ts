import { IdempotencyConflictError, InsufficientCreditsError, LedgerBusyError } from '../ledger/errors';
import { ApiError } from './errors';
import { idempotencyConflict } from './idempotency';

/** The ledger's typed errors, as the API contract names them. */
export function domainToApiError(error: unknown): ApiError | undefined {
  if (error instanceof InsufficientCreditsError) {
    return new ApiError(402, 'insufficient_credits', error.message, { credits: error.credits });
  }
  if (error instanceof IdempotencyConflictError) return idempotencyConflict();
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
