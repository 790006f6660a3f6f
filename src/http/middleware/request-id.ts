import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from '../../logger';
import type { AppState } from '../context';

const acceptable = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * The request's logger carries `bindings` (the request id, then what authentication learns). It is
 * made on first use only, once: most requests log nothing but the access line, which is skipped
 * below the info level, and a pino child logger per request is a measurable part of a fast one.
 */
function lazyLogger(state: AppState, logger: Logger, bindings: Record<string, unknown>): void {
  let made: Logger | undefined;
  state.logBindings = bindings;
  Object.defineProperty(state, 'log', {
    configurable: true,
    enumerable: true,
    get: () => {
      made ??= logger.child(bindings);
      state.logBindings = undefined; // from now on, more bindings need a child of `made`
      return made;
    },
    set: (replaced: Logger) => {
      made = replaced;
      state.logBindings = undefined;
    },
  });
}

/** Adds fields to every later log line of this request. */
export function bindLog(state: AppState, fields: Record<string, unknown>): void {
  if (state.logBindings) Object.assign(state.logBindings, fields);
  else state.log = state.log.child(fields);
}

/** Gives each request an id (the caller's, if it is sane), a logger, and one access log line. */
export function requestContext(logger: Logger): Middleware<AppState> {
  const accessLogged = () => logger.isLevelEnabled('info');
  return async (ctx, next) => {
    const offered = ctx.get('X-Request-ID');
    const requestId = acceptable.test(offered) ? offered : randomUUID();
    ctx.state.requestId = requestId;
    lazyLogger(ctx.state, logger, { request_id: requestId });
    ctx.set('X-Request-ID', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const line = {
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      };
      if (ctx.status >= 500) ctx.state.log.error(line, 'request failed');
      else if (accessLogged()) ctx.state.log.info(line, 'request');
    }
  };
}
