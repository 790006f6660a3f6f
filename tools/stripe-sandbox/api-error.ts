// Errors in Stripe's wire shape: `{"error": {"type", "message", "code"?, "param"?}}`. The stripe
// client picks its error class from the HTTP status and `type`, so both must be right.

export type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'rate_limit_error';

export class SandboxApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }

  toBody(): { error: Record<string, string> } {
    const error: Record<string, string> = { type: this.type, message: this.message };
    if (this.code) error.code = this.code;
    if (this.param) error.param = this.param;
    return { error };
  }
}

export const invalidRequest = (message: string, param?: string, code = 'parameter_invalid') =>
  new SandboxApiError(400, 'invalid_request_error', message, code, param);

export const missingParam = (param: string) =>
  new SandboxApiError(
    400,
    'invalid_request_error',
    `Missing required param: ${param}.`,
    'parameter_missing',
    param,
  );

export const noSuchObject = (kind: string, id: string, param = 'id') =>
  new SandboxApiError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing', param);
