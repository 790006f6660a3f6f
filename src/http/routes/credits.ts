import Router from '@koa/router';
import { z } from 'zod';
import { creditFields, creditFieldsSchema } from '../../ledger/credit-fields';
import { fingerprint, normaliseUserId } from '../../ledger/ids';
import type { Ledger } from '../../ledger/ledger';
import { type AppDeps, type AppState, callerInstance } from '../context';
import type { Guards } from '../guards';
import { markReplayed } from '../idempotency';
import { creditAmountField, creditTypeField, emailField, userIdField } from '../schemas/common';
import { parseBody, parseQuery } from '../validate';

export const creditsQuery = z.object({
  user_id: z.string().trim().min(1).max(191),
  user_email: emailField.optional(),
});

/** `get_user_credits()` reads `success` and `credits.<type>_credits`. */
export const creditsResponse = (creditTypes: readonly string[]) =>
  z.object({
    success: z.literal(true),
    user_id: z.string(),
    user_email: z.string().nullable(),
    credits: creditFieldsSchema(creditTypes),
    last_updated: z.iso.datetime().describe('When these balances were read; they are exact at that time'),
  });

export const deductRequest = (creditTypes: readonly string[]) =>
  z.object({
    user_id: userIdField,
    user_email: emailField,
    credit_type: creditTypeField(creditTypes),
    amount: creditAmountField.default(1),
  });

/** `deduct_credits()` reads `success`, `remaining_credits` and `transaction_id`. */
export const deductResponse = (creditTypes: readonly string[]) =>
  z.object({
    success: z.literal(true),
    transaction_id: z.string(),
    remaining_credits: creditFieldsSchema(creditTypes),
  });

/** A plugin's users' balances and spending: `/api/v1/users/*`, always within the calling instance. */
export function creditRoutes(
  deps: Pick<AppDeps, 'config' | 'db'> & { ledger: Ledger },
  guards: Guards,
): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/users' });

  router.get('/credits', guards.plugin('credits:read', { whilePending: true }), async (ctx) => {
    const instance_id = callerInstance(ctx).instance_id;
    const query = parseQuery(ctx, creditsQuery);
    const head = await deps.ledger.balances({ instance_id, ...query });
    ctx.body = {
      success: true,
      user_id: query.user_id,
      user_email: query.user_email ?? null,
      credits: creditFields(head.balances),
      last_updated: new Date().toISOString(),
    };
  });

  const deductBody = deductRequest(deps.config.CREDIT_TYPES);

  router.post('/deduct-credits', guards.plugin('credits:write'), guards.idempotent(), async (ctx) => {
    const instance_id = callerInstance(ctx).instance_id;
    const body = parseBody(ctx, deductBody);
    const key = ctx.state.idempotencyKey;
    const request_hash = fingerprint({
      route: 'deduct-credits',
      ...body,
      user_id: normaliseUserId(body.user_id),
    });

    const result = await deps.ledger.deduct({
      instance_id,
      ...body,
      ...(key ? { idempotency_key: `deduct:${key}`, request_hash } : {}),
    });
    markReplayed(ctx, result.replayed);
    ctx.body = {
      success: true,
      transaction_id: result.entry.transaction_id,
      remaining_credits: creditFields(result.balances),
    };
  });

  return router;
}
