import type { Middleware } from 'koa';
import { ZodError } from 'zod';
import type { AppState } from '../context';
import { domainToApiError } from '../domain-errors';
import { ApiError, invalidRequest } from '../errors';

/**
 * The one place where errors become responses. Known errors keep their status and code; anything
 * else is a 500 with no detail, logged under the request id the client also gets.
 */
export function errorHandler(): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError(404, 'not_found', `No route for ${ctx.method} ${ctx.path}`);
      }
      if (ctx.status === 405 && ctx.body === undefined) {
        throw new ApiError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`);
      }
    } catch (caught) {
      const error =
        caught instanceof ZodError ? invalidRequest(caught.issues) : (domainToApiError(caught) ?? caught);
      if (error instanceof ApiError) {
        ctx.status = error.status;
        for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
        ctx.body = { success: false, error: error.code, message: error.message, ...error.extra };
        return;
      }
      const status = (error as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        // Errors raised by Koa itself for a bad request (e.g. a malformed header).
        ctx.status = status;
        ctx.body = { success: false, error: 'invalid_request', message: 'Malformed request' };
        return;
      }
      ctx.state.log.error({ err: error }, 'unhandled error');
      ctx.status = 500;
      ctx.body = {
        success: false,
        error: 'internal_error',
        message: `Internal error; quote request id ${ctx.state.requestId} when reporting it`,
      };
    }
  };
}
