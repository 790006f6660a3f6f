import { z } from 'zod';
import { maxStatsDays, operatorStats } from '../../analytics/stats';
import { purchaseStatuses } from '../../purchases/model';
import { instanceStatuses } from '../../tenancy/instances';
import { deliveryStatuses } from '../../webhooks/deliveries';
import type { AppDeps } from '../context';
import { ApiError } from '../errors';
import { type Route, route } from '../route';
import { timeBoundField } from '../schemas/common';

const dayMs = 86_400_000;
const defaultDays = 30;

export const statsQuery = z.object({
  since: timeBoundField.optional().describe(`from (inclusive); default ${defaultDays} days before \`until\``),
  until: timeBoundField.optional().describe('to (exclusive); default now'),
});

const counts = (keys: readonly string[]) =>
  z.object(Object.fromEntries(keys.map((key) => [key, z.number().int().nonnegative()])));
const rate = z.number().min(0).max(1).nullable();

export const statsResponse = z.object({
  success: z.literal(true),
  since: z.iso.datetime(),
  until: z.iso.datetime(),
  instances: counts(['total', ...instanceStatuses, 'deleted', 'active_in_range']).describe(
    'by status as of now; `active_in_range`: with a ledger entry, a generation or a purchase in the range',
  ),
  users: counts(['total', 'new_in_range', 'active_in_range']).describe(
    'ledger accounts: all, opened in the range, with a ledger entry in the range',
  ),
  usage: z
    .array(
      z.object({
        day: z.iso.date(),
        credit_type: z.string(),
        generations: z.number().int().nonnegative(),
        credits_used: z.number().int(),
      }),
    )
    .describe('per UTC day and credit type: generations the plugins reported, credits the ledger deducted'),
  purchases: z.object({
    by_day: z
      .array(
        z.object({
          day: z.iso.date(),
          currency: z.string(),
          purchases: z.number().int().nonnegative(),
          paid: z.number().int().nonnegative(),
          revenue: z.number().int(),
          refunded: z.number().int(),
          lost_to_disputes: z.number().int(),
          net_revenue: z.number().int(),
        }),
      )
      .describe(
        'purchases started that UTC day, per currency; money in minor units: `revenue` of the paid ones (fulfilled, refunded and disputed included), less `refunded` and `lost_to_disputes` is `net_revenue`',
      ),
    by_outcome: counts(purchaseStatuses).describe('purchases started in the range, by their recorded status'),
    fulfilment_latency_ms: z
      .object({ count: z.number().int(), p50: z.number().nullable(), p99: z.number().nullable() })
      .describe('from created_at to fulfilled_at, of the purchases started in the range that were fulfilled'),
  }),
  webhooks: z.object({
    deliveries: counts(deliveryStatuses).describe('deliveries created in the range, by status now'),
    delivery_success_rate: rate.describe(
      'delivered / (delivered + dead_lettered + gone + failed); null when none has ended',
    ),
    attempts: counts(['total', 'delivered', 'failed', 'gone', 'refused']).describe(
      'HTTP attempts made in the range',
    ),
    attempt_success_rate: rate,
  }),
});

export function adminStatsRoutes(deps: Pick<AppDeps, 'db'>): Route[] {
  return [
    route({
      method: 'get',
      path: '/admin/v1/stats',
      summary: 'Figures for a time range: instances, users, usage, revenue, purchase outcomes, webhooks',
      auth: 'admin',
      query: statsQuery,
      response: statsResponse,
      async handler(ctx, input) {
        const query = input.query();
        const until = query.until ?? new Date();
        const since = query.since ?? new Date(until.getTime() - defaultDays * dayMs);
        if (since >= until)
          throw new ApiError(400, 'invalid_request', 'Invalid fields: since (must be before until)');
        if (until.getTime() - since.getTime() > maxStatsDays * dayMs) {
          throw new ApiError(
            400,
            'invalid_request',
            `Invalid fields: since (a range of at most ${maxStatsDays} days)`,
          );
        }
        ctx.body = { success: true, ...(await operatorStats(deps.db, { since, until })) };
      },
    }),
  ];
}
