import type { z } from 'zod';
import type { AppContext } from './context';
import { ApiError, invalidRequest } from './errors';

/** Validates the parsed JSON body; every bad field is named in one `400 invalid_request`. */
export function parseBody<T extends z.ZodType>(ctx: AppContext, schema: T): z.infer<T> {
  const body = ctx.state.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'invalid_request', 'Request body must be a JSON object');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw invalidRequest(parsed.error.issues, body);
  return parsed.data;
}

/** Validates the query string (repeated keys are rejected rather than guessed at). */
export function parseQuery<T extends z.ZodType>(ctx: AppContext, schema: T): z.infer<T> {
  const parsed = schema.safeParse(ctx.query);
  if (!parsed.success) throw invalidRequest(parsed.error.issues, ctx.query);
  return parsed.data;
}
