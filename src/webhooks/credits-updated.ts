import { creditFields } from '../ledger/credit-fields';
import type { WebhookEventData } from './catalogue';

/** What a plugin is told when one of its users' balances changed. */
export interface CreditsUpdate {
  instance_id: string;
  user_id: string;
  user_email?: string | null;
  delta: number;
  reason: string;
  /** The account's ledger position: receivers keep the highest one they have seen. */
  ledger_seq: number;
  balances: Record<string, number>;
  purchase_id?: string;
}

export interface CreditsUpdatedEvent {
  instance_id: string;
  event: 'credits_updated';
  idempotency_key: string;
  data: WebhookEventData<'credits_updated'>;
}

/**
 * The one `credits_updated` event: the plugin's handler finds the user by `user_email` and fails the
 * delivery without it, so an update with no known email is not sent (undefined). Keyed by the
 * account's ledger position, so however often a caller retries, one event is stored.
 */
export function creditsUpdatedEvent(update: CreditsUpdate): CreditsUpdatedEvent | undefined {
  if (!update.user_email) return undefined;
  return {
    instance_id: update.instance_id,
    event: 'credits_updated' as const,
    idempotency_key: `credits_updated:${update.instance_id}:${update.user_id}:${update.ledger_seq}`,
    data: {
      user_id: update.user_id,
      user_email: update.user_email,
      credits: creditFields(update.balances),
      delta: update.delta,
      reason: update.reason,
      ledger_seq: update.ledger_seq,
      ...(update.purchase_id ? { purchase_id: update.purchase_id } : {}),
    },
  };
}
