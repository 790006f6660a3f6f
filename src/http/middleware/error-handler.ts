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
    } catch (caught) {
      const error =
        caught instanceof ZodError ? invalidRequest(caught.issues) : (domainToApiError(caught) ?? caught);
      if (error instanceof ApiError) {
        ctx.status = error.status;
        for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
        ctx.body = { success: false, error: error.code, message: error.message, ...error.extra };
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
