import type { z } from 'zod';

/** An error with a place in the API contract: its status, its snake_case code, a message for a human. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (message = 'Not found') => new ApiError(404, 'not_found', message);
export const unauthorized = (message = 'Missing or invalid credentials') =>
  new ApiError(401, 'unauthorized', message);
export const forbidden = (message = 'Forbidden') => new ApiError(403, 'forbidden', message);

/**
 * Turns zod issues into one message naming every bad field, in the wording the existing plugin
 * knows (`Missing required fields: user_id, user_email`).
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const missing: string[] = [];
  const invalid: string[] = [];
  for (const issue of issues) {
    const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
    const isMissing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
    if (isMissing) missing.push(field);
    else invalid.push(`${field} (${issue.message})`);
  }
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`Missing required fields: ${[...new Set(missing)].join(', ')}`);
  if (invalid.length > 0) parts.push(`Invalid fields: ${[...new Set(invalid)].join(', ')}`);
  return parts.join('; ');
}

export function invalidRequest(issues: readonly z.core.$ZodIssue[]): ApiError {
  return new ApiError(400, 'invalid_request', describeIssues(issues));
}
