import type { Middleware } from 'koa';
import { type Config, operatorTokens } from '../../config';
import type { AppState } from '../context';
import { unauthorized } from '../errors';
import { bearerMatcher } from './admin-auth';

type MetricsTokens = Pick<Config, 'METRICS_TOKEN' | 'ADMIN_API_TOKEN' | 'ADMIN_API_TOKENS'>;

/**
 * Whether an Authorization header may read /metrics: `Bearer <METRICS_TOKEN>` (the scraper's) or
 * any operator token. With none configured, nobody may: metrics are never public. The API's route
 * and the worker's listener both ask this.
 */
export function metricsReader(config: MetricsTokens): (authorization: string | undefined) => boolean {
  const matches = bearerMatcher([
    ...(config.METRICS_TOKEN ? [{ name: 'metrics', token: config.METRICS_TOKEN }] : []),
    ...operatorTokens(config).map(({ operator, token }) => ({ name: operator, token })),
  ]);
  return (authorization) => matches(authorization) !== undefined;
}

export function metricsAuth(config: MetricsTokens): Middleware<AppState> {
  const allowed = metricsReader(config);
  return async (ctx, next) => {
    if (!allowed(ctx.get('Authorization'))) throw unauthorized('Metrics token required');
    await next();
  };
}
