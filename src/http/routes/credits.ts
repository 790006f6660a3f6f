import { z } from 'zod';
import { creditFields, creditFieldsSchema } from '../../ledger/credit-fields';
import type { Ledger } from '../../ledger/ledger';
import { type AppDeps, callerInstance } from '../context';
import { markReplayed, validatedRequestHash } from '../idempotency';
import { type Route, route } from '../route';
import { creditAmountField, creditTypeField, emailField, userIdField } from '../schemas/common';

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
export function creditRoutes(deps: Pick<AppDeps, 'config' | 'db'> & { ledger: Ledger }): Route[] {
  const types = deps.config.CREDIT_TYPES;
  return [
    route({
      method: 'get',
      path: '/api/v1/users/credits',
      summary: "A user's balances",
      auth: 'plugin',
      scope: 'credits:read',
      whilePending: true,
      query: creditsQuery,
      response: creditsResponse(types),
      async handler(ctx, input) {
        const instance_id = callerInstance(ctx).instance_id;
        const query = input.query();
        const head = await deps.ledger.balances({ instance_id, ...query });
        ctx.body = {
          success: true,
          user_id: query.user_id,
          user_email: query.user_email ?? null,
          credits: creditFields(head.balances),
          last_updated: new Date().toISOString(),
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/users/deduct-credits',
      summary: 'Spend credits (never below zero)',
      auth: 'plugin',
      scope: 'credits:write',
      idempotent: true,
      body: deductRequest(types),
      response: deductResponse(types),
      async handler(ctx, input) {
        const instance_id = callerInstance(ctx).instance_id;
        const body = input.body();
        const key = ctx.state.idempotencyKey;
        const request_hash = validatedRequestHash('deduct-credits', body);

        const result = await deps.ledger.deduct({
          instance_id,
          ...body,
          request_id: ctx.state.requestId,
          ...(key ? { idempotency_key: `deduct:${key}`, request_hash } : {}),
        });
        markReplayed(ctx, result.replayed);
        ctx.body = {
          success: true,
          transaction_id: result.entry.transaction_id,
          remaining_credits: creditFields(result.balances),
        };
      },
    }),
  ];
}
