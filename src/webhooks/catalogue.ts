import { z } from 'zod';

// Every event plugins receive (api-contract.md, "Webhooks to plugins"), in one list: its `data`
// schema, whether operators may broadcast it to many instances, and how a newer one makes an older
// one still queued redundant. The event type list, the broadcast lists, supersede rules, the
// OpenAPI `webhooks` section and publish-time checks all derive from this table. A new event type
// is one entry here (and the plugin must know its name: its handler answers 400 to any other).

const userId = z.union([z.string(), z.number()]);
const isoTime = z.string().describe('ISO 8601');

export const webhookCatalogue = {
  credits_updated: {
    summary: "A user's balance changed (purchase, refund, dispute, adjustment, expiry)",
    data: z.object({
      user_id: userId,
      // The plugin's handler finds the user by email and fails the delivery without it.
      user_email: z.string(),
      credits: z.record(z.string(), z.number()).describe('`<type>_credits` per credit type'),
      delta: z.number(),
      reason: z.string(),
      ledger_seq: z.number().describe("the account's ledger position: receivers keep the highest"),
      purchase_id: z.string().optional(),
    }),
    broadcast: 'never',
    /** A newer balance of the same user makes an older one still queued pointless. */
    supersede: ({ user_id: user, ledger_seq: seq }: Record<string, unknown>) =>
      (typeof user === 'string' || typeof user === 'number') && typeof seq === 'number'
        ? { key: `credits:${user}`, rank: seq }
        : undefined,
  },
  config_updated: {
    summary: 'Operator configuration changed: re-read it (the value is never in the webhook)',
    data: z.object({ key: z.string().optional(), updated_at: isoTime.optional() }).catchall(z.unknown()),
    broadcast: 'operator',
  },
  package_updated: {
    summary: 'Credit packages changed: re-read them',
    data: z.object({ package_id: z.string().optional() }).catchall(z.unknown()),
    broadcast: 'operator',
  },
  plugin_disabled: {
    summary: 'An operator disabled this instance',
    data: z.object({ reason: z.string(), disabled_at: isoTime }),
    broadcast: 'system',
  },
  plugin_enabled: {
    summary: 'An operator enabled this instance again',
    data: z.object({ enabled_at: isoTime }),
    broadcast: 'system',
  },
  test_webhook: {
    summary: 'A test send, or the site verification after registration (`purpose: site_verification`)',
    data: z.object({ message: z.string() }).catchall(z.unknown()),
    broadcast: 'never',
  },
} as const satisfies Record<string, CatalogueEntry>;

interface CatalogueEntry {
  summary: string;
  data: z.ZodType;
  /** `operator`: an operator may broadcast it; `system`: broadcast by the backend only; `never`. */
  broadcast: 'operator' | 'system' | 'never';
  supersede?: (data: Record<string, unknown>) => { key: string; rank: number } | undefined;
}

export type WebhookEventType = keyof typeof webhookCatalogue;
export type WebhookEventData<E extends WebhookEventType> = z.infer<(typeof webhookCatalogue)[E]['data']>;

export const webhookEventTypes = Object.keys(webhookCatalogue) as [WebhookEventType, ...WebhookEventType[]];

type BroadcastKind = (typeof webhookCatalogue)[WebhookEventType]['broadcast'];
type EventsBroadcast<K extends BroadcastKind> = {
  [E in WebhookEventType]: (typeof webhookCatalogue)[E]['broadcast'] extends K ? E : never;
}[WebhookEventType];

/** Events a broadcast may carry (to many instances at once). */
export type BroadcastEvent = EventsBroadcast<'operator' | 'system'>;
/** Events an operator may broadcast through the admin API. */
export type OperatorBroadcastEvent = EventsBroadcast<'operator'>;

const typesWhere = <E extends WebhookEventType>(test: (entry: CatalogueEntry) => boolean) =>
  webhookEventTypes.filter((type) => test(webhookCatalogue[type])) as [E, ...E[]];

export const broadcastEvents = typesWhere<BroadcastEvent>((entry) => entry.broadcast !== 'never');
export const operatorBroadcastEvents = typesWhere<OperatorBroadcastEvent>(
  (entry) => entry.broadcast === 'operator',
);

/**
 * Where a delivery stands among deliveries of the same kind to its endpoint: a higher rank of the
 * same key makes it redundant while it is still queued. Undefined for events that never supersede.
 */
export function supersedeOrder(event: {
  event_type: WebhookEventType;
  data: Record<string, unknown>;
}): { key: string; rank: number } | undefined {
  const entry: CatalogueEntry = webhookCatalogue[event.event_type];
  return entry.supersede?.(event.data);
}

/** Checks an event's data against its schema before it is stored (a publisher's mistake, not the plugin's). */
export function checkEventData(type: WebhookEventType, data: Record<string, unknown>): string | undefined {
  const parsed = webhookCatalogue[type].data.safeParse(data);
  return parsed.success
    ? undefined
    : `${type} data: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`;
}
