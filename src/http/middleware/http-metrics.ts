import type { Middleware } from 'koa';
import { observeHttpRequest } from '../../metrics';
import type { AppState } from '../context';

/**
 * Counts and times every request by its declared route (the router's matched pattern, so
 * `/api/v1/purchases/:id`, never the raw URL) and its final status. Outside the error handler, so
 * errors are counted with the status their answer got.
 */
export function httpMetrics(): Middleware<AppState> {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      observeHttpRequest(
        ctx.method,
        typeof route === 'string' ? route : 'unmatched',
        ctx.status,
        performance.now() - started,
      );
    }
  };
}
