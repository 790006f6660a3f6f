import Stripe from 'stripe';
import { newId, unixNow } from './ids';
import type { EventObject, SandboxObject } from './objects';
import type { SandboxStore } from './store';
import { render } from './views';

/** Records events as Stripe would create them; sending is the WebhookSender's job. */
export class EventLog {
  constructor(
    private readonly store: SandboxStore,
    /** How many endpoints would be sent this event now (Stripe's `pending_webhooks`). */
    private readonly pendingWebhooks: () => number,
  ) {}

  record(
    type: string,
    object: SandboxObject,
    options: { previous?: Record<string, unknown>; idempotencyKey?: string | null } = {},
  ): EventObject {
    const event: EventObject = {
      id: newId('evt'),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: unixNow(),
      // A snapshot: later changes to the object must not rewrite history.
      data: {
        object: render(this.store, object),
        ...(options.previous ? { previous_attributes: options.previous } : {}),
      },
      livemode: false,
      pending_webhooks: this.pendingWebhooks(),
      request: {
        id: options.idempotencyKey ? newId('req', 14) : null,
        idempotency_key: options.idempotencyKey ?? null,
      },
      type,
    };
    this.store.addEvent(event);
    return event;
  }
}
