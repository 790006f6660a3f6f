import type { EventObject } from './objects';
import { stripeSignatureHeader } from './signature';

/** One POST of one event to the webhook URL, as the sandbox's event log shows it. */
export interface DeliveryAttempt {
  at: string;
  url: string;
  /** HTTP status the receiver answered, or null when it could not be reached. */
  status: number | null;
  error: string | null;
  durationMs: number;
}

export interface DispatchOptions {
  /** Override the global switch for this dispatch (false: record the events, send nothing). */
  send?: boolean;
  /** `reverse` delivers a batch last-first, to test receivers against out-of-order events. */
  order?: 'created' | 'reverse';
  /** Deliver each event this many times in a row, to test duplicate handling. */
  times?: number;
}

export interface WebhookSettings {
  url: string | null;
  enabled: boolean;
}

const deliveryTimeoutMs = 10_000;

/**
 * Sends signed events to one endpoint, one at a time in the order they were queued, so that
 * "in order" really means in order. Every attempt is kept for GET /_sandbox/events.
 */
export class WebhookSender {
  readonly attempts = new Map<string, DeliveryAttempt[]>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    public settings: WebhookSettings,
    private readonly secret: string,
  ) {}

  /** Queues the events; resolves when they have been delivered (or skipped). */
  dispatch(events: EventObject[], options: DispatchOptions = {}): Promise<void> {
    const send = options.send ?? this.settings.enabled;
    const url = this.settings.url;
    if (!send || !url || events.length === 0) return this.queue;
    const ordered = options.order === 'reverse' ? [...events].reverse() : events;
    const times = Math.max(1, Math.min(options.times ?? 1, 20));
    const run = async () => {
      for (const event of ordered) {
        for (let i = 0; i < times; i += 1) await this.deliver(event, url);
      }
    };
    this.queue = this.queue.then(run, run);
    return this.queue;
  }

  /** Waits for everything queued so far (used when stopping). */
  idle(): Promise<void> {
    return this.queue;
  }

  private async deliver(event: EventObject, url: string): Promise<void> {
    const payload = JSON.stringify(event, null, 2);
    const started = Date.now();
    const attempt: DeliveryAttempt = {
      at: new Date(started).toISOString(),
      url,
      status: null,
      error: null,
      durationMs: 0,
    };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'Stripe-Signature': stripeSignatureHeader(payload, this.secret),
        },
        body: payload,
        signal: AbortSignal.timeout(deliveryTimeoutMs),
      });
      attempt.status = response.status;
      await response.arrayBuffer(); // drain, so the connection can be reused
    } catch (error) {
      attempt.error = error instanceof Error ? error.message : String(error);
    }
    attempt.durationMs = Date.now() - started;
    const log = this.attempts.get(event.id) ?? [];
    log.push(attempt);
    this.attempts.set(event.id, log);
  }
}
