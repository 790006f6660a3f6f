import { z } from 'zod';
import { creditFields } from '../../ledger/credit-fields';
import type { Ledger } from '../../ledger/ledger';
import { findInstance } from '../../tenancy/instances';
import { creditsUpdatedEvent } from '../../webhooks/credits-updated';
import { notify } from '../../webhooks/notify';
import { webhookPublisher } from '../../webhooks/publish';
import type { AppDeps } from '../context';
import { ApiError, notFound } from '../errors';
import { markReplayed, validatedRequestHash } from '../idempotency';
import { type Route, route } from '../route';
import { creditDeltaField, creditTypeField, emailField, userIdField } from '../schemas/common';

export const adjustCreditsRequest = (creditTypes: readonly string[]) =>
  z
    .object({
      instance_id: z.string().trim().min(1).max(255),
      user_id: userIdField,
      user_email: emailField,
      credit_type: creditTypeField(creditTypes),
      delta: creditDeltaField,
      reason: z.string().trim().min(1).max(500),
      expires_at: z.iso.datetime({ offset: true }).optional(),
    })
    .refine((body) => body.expires_at === undefined || body.delta > 0, {
      message: 'only positive adjustments (grants) can expire',
      path: ['expires_at'],
    });

/** `POST /admin/v1/credits/adjust`: an operator grants (optionally expiring) or removes credits. */
export function adminCreditRoutes(
  deps: Pick<AppDeps, 'config' | 'db' | 'workflows'> & { ledger: Ledger },
): Route[] {
  return [
    route({
      method: 'post',
      path: '/admin/v1/credits/adjust',
      summary: 'Grant or remove credits (credits_updated)',
      auth: 'admin',
      idempotent: true,
      body: adjustCreditsRequest(deps.config.CREDIT_TYPES),
      async handler(ctx, input) {
        const body = input.body();
        const expiresAt = body.expires_at ? new Date(body.expires_at) : undefined;
        if (expiresAt && expiresAt.getTime() <= Date.now()) {
          throw new ApiError(400, 'invalid_request', 'Invalid fields: expires_at (must be in the future)');
        }
        if (!(await findInstance(deps.db, body.instance_id))) throw notFound('Instance not found');
        const key = ctx.state.idempotencyKey;
        const request_hash = validatedRequestHash('credits/adjust', body);

        const result = await deps.ledger.adjust({
          instance_id: body.instance_id,
          user_id: body.user_id,
          user_email: body.user_email,
          credit_type: body.credit_type,
          delta: body.delta,
          reason: body.reason,
          ...(expiresAt ? { expires_at: expiresAt } : {}),
          ...(key ? { idempotency_key: `adjust:${key}`, request_hash } : {}),
          // A replay answers with the first entry, which names the first request and its operator.
          ...(ctx.state.operator ? { operator: ctx.state.operator } : {}),
          request_id: ctx.state.requestId,
        });
        markReplayed(ctx, result.replayed);
        if (ctx.state.audit) {
          ctx.state.audit.targets.transaction_id = result.entry.transaction_id;
          ctx.state.audit.notes.push(`ledger seq ${result.entry.seq}`);
        }
        // The plugin is told; keyed by the ledger entry, so a replayed request publishes nothing new.
        const event = creditsUpdatedEvent({
          instance_id: body.instance_id,
          user_id: result.entry.user_id,
          user_email: body.user_email,
          balances: result.balances,
          delta: result.entry.delta,
          reason: body.reason,
          ledger_seq: result.entry.seq,
        });
        if (event) await notify(webhookPublisher(deps), ctx.state.log, { to: 'instance', ...event });
        ctx.body = {
          success: true,
          transaction_id: result.entry.transaction_id,
          credits: creditFields(result.balances),
        };
      },
    }),
  ];
}
