import { z } from 'zod';
import { pingMongo } from '../../mongo/client';
import { pingTemporal } from '../../temporal/client';
import type { AppDeps } from '../context';
import { type Route, route } from '../route';

const dependencyStatus = z.enum(['ok', 'down']);

export const healthResponse = z.object({
  success: z.boolean(),
  error: z.literal('unavailable').optional(),
  message: z.string().optional(),
  status: z.enum(['ok', 'degraded']),
  temporal: dependencyStatus,
  mongodb: dependencyStatus,
});

export function healthRoutes(deps: AppDeps): Route[] {
  return [
    route({
      method: 'get',
      path: '/health',
      summary: 'Whether Temporal and MongoDB answer',
      auth: 'none',
      response: healthResponse,
      async handler(ctx) {
        const [temporal, mongodb] = await Promise.all([pingTemporal(deps.temporal), pingMongo(deps.db)]);
        const healthy = temporal && mongodb;
        ctx.status = healthy ? 200 : 503;
        ctx.body = healthResponse.parse({
          success: healthy,
          ...(healthy ? {} : { error: 'unavailable', message: 'A dependency is not answering' }),
          status: healthy ? 'ok' : 'degraded',
          temporal: temporal ? 'ok' : 'down',
          mongodb: mongodb ? 'ok' : 'down',
        });
      },
    }),
  ];
}
