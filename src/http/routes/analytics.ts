import { z } from 'zod';
import {
  legacyEventDocument,
  maxPromptLength,
  pluginGenerationDocument,
  recordGenerationEvents,
} from '../../analytics/generation-events';
import { recordUsageSync } from '../../analytics/usage-sync';
import { type AppDeps, callerInstance } from '../context';
import { type Route, route } from '../route';
import {
  creditTypeField,
  emailField,
  integerField,
  pluginTimeField,
  storableJsonObject,
  userIdField,
  versionField,
} from '../schemas/common';

// Generation analytics in the formats of the Rakubun WordPress plugin
// (includes/class-rakubun-ai-external-api.php: log_generation() and send_analytics()), and the
// older `{events: [...]}` batch. Each batch is validated whole before anything is stored.

const promptField = z
  .string()
  .nullish()
  .describe(`The prompt; at most ${maxPromptLength} characters are kept, longer ones are cut`);
const countField = integerField({ min: 0 }).nullish();
const looseText = (max: number) => z.string().max(max).nullish();

/** content_type (the plugin's name) or credit_type: one is required, and they agree when both come. */
function oneCreditType(value: unknown, ctx: z.RefinementCtx) {
  if (value === null || typeof value !== 'object') return;
  const { content_type, credit_type } = value as { content_type?: unknown; credit_type?: unknown };
  if (content_type === undefined && credit_type === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['content_type'],
      message: 'content_type or credit_type is required',
    });
  } else if (content_type !== undefined && credit_type !== undefined && content_type !== credit_type) {
    ctx.addIssue({ code: 'custom', path: ['credit_type'], message: 'differs from content_type' });
  }
}
const always = { when: () => true };

/** log_generation(): one generation, reported when it happens. */
export const generationEventRequest = (creditTypes: readonly string[]) =>
  z
    .object({
      event_id: z.string().min(1).max(255).optional(),
      user_id: userIdField,
      user_email: emailField,
      site_url: looseText(2048),
      content_type: creditTypeField(creditTypes).optional(),
      credit_type: creditTypeField(creditTypes).optional().describe('Synonym of content_type'),
      prompt: promptField,
      result_length: countField,
      credits_used: countField,
      metadata: storableJsonObject.optional(),
      timestamp: pluginTimeField.nullish(),
    })
    .check(z.superRefine(oneCreditType, always));

/** An `{events: [...]}` event (clients other than the WordPress plugin). */
const legacyEvent = (creditTypes: readonly string[]) =>
  z.object({
    event_id: z.string().min(1).max(255).optional(),
    user_id: userIdField,
    user_email: emailField,
    credit_type: creditTypeField(creditTypes),
    credits_used: integerField({ min: 0 }).optional(),
    prompt: promptField,
    result_length: countField,
    metadata: storableJsonObject.optional(),
    timestamp: pluginTimeField.optional(),
  });

/** A row of the plugin's generations table: every value may be a string (`$wpdb->get_results`). */
const generationRow = (creditTypes: readonly string[]) =>
  z.object({
    user_id: userIdField,
    content_type: creditTypeField(creditTypes),
    prompt: promptField,
    result_length: countField,
    credits_used: countField,
    created_at: pluginTimeField,
  });

/** A row of the plugin's transactions table. */
const transactionRow = (creditTypes: readonly string[]) =>
  z.object({
    user_id: userIdField,
    transaction_type: z.string().trim().min(1).max(64),
    credit_type: creditTypeField(creditTypes),
    amount: integerField(),
    created_at: pluginTimeField,
  });

const batchLimit = 1000;

/**
 * send_analytics(): the hourly sync (`sync_period`, `generations`, `transactions`, ...), or the
 * older `{events: [...]}` batch. `null` arrays (a failed `get_results`) count as empty.
 */
export const usageRequest = (creditTypes: readonly string[]) =>
  z
    .object({
      site_url: looseText(2048),
      instance_id: looseText(128).describe('Ignored: the instance is the authenticated one'),
      sync_period: z.object({ from: pluginTimeField, to: pluginTimeField }).nullish(),
      generations: z
        .array(generationRow(creditTypes))
        .max(batchLimit, { message: `at most ${batchLimit} generations` })
        .nullish(),
      transactions: z
        .array(transactionRow(creditTypes))
        .max(batchLimit, { message: `at most ${batchLimit} transactions` })
        .nullish(),
      total_users: countField,
      plugin_version: versionField.nullish(),
      events: z
        .array(legacyEvent(creditTypes))
        .max(batchLimit, { message: `at most ${batchLimit} events` })
        .optional(),
    })
    .check(
      z.superRefine((value: unknown, ctx) => {
        if (value === null || typeof value !== 'object') return;
        const keys = ['generations', 'transactions', 'sync_period', 'events'];
        if (keys.every((key) => (value as Record<string, unknown>)[key] === undefined)) {
          ctx.addIssue({
            code: 'custom',
            path: ['generations'],
            message: 'generations (or events) is required',
          });
        }
      }, always),
    );

export const generationResponse = z.object({
  success: z.literal(true),
  accepted: z
    .number()
    .int()
    .min(0)
    .max(1)
    .describe('1 when the generation is new, 0 when it was already stored (a resend)'),
});

export const usageResponse = z.object({
  success: z.literal(true),
  accepted: z
    .number()
    .int()
    .nonnegative()
    .describe(
      'How many generations (and `events`) were new: rows stored by an earlier, overlapping sync are not counted again',
    ),
  transactions_accepted: z.number().int().nonnegative().describe('How many transaction rows were new'),
});

/** Generation analytics from plugins: one event, or batches that may be resent. */
export function analyticsRoutes(deps: Pick<AppDeps, 'config' | 'db'>): Route[] {
  const types = deps.config.CREDIT_TYPES;
  return [
    route({
      method: 'post',
      path: '/api/v1/analytics/generation',
      summary: 'Record one generation (log_generation)',
      auth: 'plugin',
      scope: 'analytics:write',
      body: generationEventRequest(types),
      response: generationResponse,
      async handler(ctx, input) {
        const instance = callerInstance(ctx);
        const event = input.body();
        const now = new Date();
        const document = pluginGenerationDocument(
          instance.instance_id,
          'generation',
          {
            ...event,
            content_type: (event.content_type ?? event.credit_type)!,
            created_at: event.timestamp ?? undefined,
          },
          instance.timezone,
          now,
        );
        const accepted = await recordGenerationEvents(deps.db, [document]);
        ctx.body = { success: true, accepted };
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/analytics/usage',
      summary: "The plugin's hourly sync, or up to 1000 events (each row stored once)",
      auth: 'plugin',
      scope: 'analytics:write',
      body: usageRequest(types),
      response: usageResponse,
      async handler(ctx, input) {
        const instance = callerInstance(ctx);
        const batch = input.body();
        const now = new Date();
        const events = await recordGenerationEvents(
          deps.db,
          (batch.events ?? []).map((event) =>
            legacyEventDocument(instance.instance_id, event, instance.timezone, now),
          ),
        );
        const sync = await recordUsageSync(
          deps.db,
          instance.instance_id,
          {
            site_url: batch.site_url,
            sync_period: batch.sync_period,
            generations: (batch.generations ?? []).map((row) => ({ ...row, created_at: row.created_at })),
            transactions: batch.transactions ?? [],
            total_users: batch.total_users,
            plugin_version: batch.plugin_version,
          },
          instance.timezone,
          now,
        );
        ctx.body = {
          success: true,
          accepted: events + sync.generations,
          transactions_accepted: sync.transactions,
        };
      },
    }),
  ];
}
