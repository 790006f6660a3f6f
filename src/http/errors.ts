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
export function describeIssues(issues: readonly z.core.$ZodIssue[], input?: unknown): string {
  const missing: string[] = [];
  const invalid: string[] = [];
  for (const issue of issues) {
    const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
    // Custom messages and unions (`user_id` is a string or an integer) hide "received undefined",
    // so when the input is at hand, a field is missing when it is simply not there.
    const absent = input !== undefined && issue.path.length > 0 && valueAt(input, issue.path) === undefined;
    const isMissing = absent || (issue.code === 'invalid_type' && /received undefined/.test(issue.message));
    if (isMissing) missing.push(field);
    else invalid.push(`${field} (${issue.message})`);
  }
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`Missing required fields: ${[...new Set(missing)].join(', ')}`);
  if (invalid.length > 0) parts.push(`Invalid fields: ${[...new Set(invalid)].join(', ')}`);
  return parts.join('; ');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

export function invalidRequest(issues: readonly z.core.$ZodIssue[], input?: unknown): ApiError {
  return new ApiError(400, 'invalid_request', describeIssues(issues, input));
}
