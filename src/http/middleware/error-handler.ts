import type { Middleware } from 'koa';
import type { AppState } from '../context';
import { errorBody, toApiError } from '../error-map';
import { ApiError } from '../errors';

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
      // 501 is the router's answer to a method it does not know at all (TRACE, PURGE...): for a
      // client that is the same mistake as a known method the route lacks.
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        throw new ApiError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`);
      }
    } catch (caught) {
      const known = toApiError(caught);
      if (known) {
        ctx.status = known.status;
        for (const [name, value] of Object.entries(known.headers)) ctx.set(name, value);
        ctx.body = errorBody(known);
        return;
      }
      const error = caught;
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
