import type { Db } from 'mongodb';
import type { Logger } from '../logger';
import { observeWebhookAttempt } from '../metrics';
import { webhookSigningKeys } from '../tenancy/instances';
import type { SecretBox } from '../tenancy/secret-box';
import { recordAttempt } from './attempts';
import { endDelivery, findDelivery, type WebhookDeliveryDoc, webhookDeliveries } from './deliveries';
import { noteEndpointFailure, noteEndpointSuccess } from './endpoint-health';
import { defaultEndpointUrl, findEndpoint } from './endpoints';
import { findEvent } from './events';
import { forbiddenAddressReason } from './ip-policy';
import { parseRetryAfter, type ReceiverLease, type ReceiverPacer, verdictForStatus } from './receiver-pacing';
import { type Resolver, type SafePostResult, safePost } from './safe-post';
import { type SigningKeys, signWebhook } from './signing';
import { isSuperseded } from './supersede';

// One try at one delivery: everything between "the workflow wants to send" and "here is what happened",
// written down before it returns. Idempotent enough to retry: a repeat re-sends the same id (receivers
// dedupe on it) and overwrites its own attempt record.

export interface AttemptInput {
  delivery_id: string;
  /** The delivery workflow's run: attempts of a replay are kept apart from the first run's. */
  run_id: string;
  /** 1-based within the run. */
  attempt: number;
  /** The receiving host of the last try: if it is busy, the try is deferred before reading anything. */
  host_hint?: string;
}

export type AttemptResult = { now_ms: number; host?: string } & (
  | { kind: 'delivered'; status_code: number }
  | { kind: 'failed'; error: string; status_code?: number; retry_after_ms?: number }
  | { kind: 'ended'; status: 'gone' | 'superseded' | 'cancelled' | 'dead_lettered'; reason: string }
  | { kind: 'deferred'; retry_at_ms: number; reason: 'busy' | 'backing_off' }
);

export interface AttemptDeps {
  db: Db;
  logger: Logger;
  secretBox: SecretBox;
  pacer: ReceiverPacer;
  allowPrivateNetworks: boolean;
  disableEndpointAfterMs: number;
  timeoutMs?: number;
  resolve?: Resolver;
  signal?: AbortSignal;
}

export const webhookUserAgent = 'Rakubun-Webhooks/1.0';

/** What every attempt sends besides the body: who it is for, what it is, and the signatures. */
export function webhookHeaders(
  keys: SigningKeys,
  event: { event_id: string; event_type: string; instance_id: string; body: string },
  timestamp: number,
): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'User-Agent': webhookUserAgent,
    'X-Instance-ID': event.instance_id,
    'X-Rakubun-Event': event.event_type,
    ...signWebhook(keys, event.event_id, timestamp, event.body),
  };
}

export async function attemptDelivery(deps: AttemptDeps, input: AttemptInput): Promise<AttemptResult> {
  const { db } = deps;
  // A backlogged host is known from the last try: defer without touching the database.
  const waiting = input.host_hint ? deps.pacer.wouldWait(input.host_hint) : undefined;
  if (waiting) {
    return {
      kind: 'deferred',
      retry_at_ms: waiting.retryAtMs,
      reason: waiting.reason,
      host: input.host_hint,
      now_ms: Date.now(),
    };
  }
  const delivery = await findDelivery(db, input.delivery_id);
  const event = delivery ? await findEvent(db, delivery.event_id) : null;
  if (!delivery || !event) {
    return { kind: 'ended', status: 'cancelled', reason: 'delivery or event not found', now_ms: Date.now() };
  }
  const end = async (status: 'gone' | 'superseded' | 'cancelled' | 'dead_lettered', reason: string) => {
    const now = new Date();
    await endDelivery(db, delivery.delivery_id, status, reason, now);
    return { kind: 'ended' as const, status, reason, now_ms: now.getTime() };
  };

  if (await isSuperseded(db, delivery)) return end('superseded', 'a newer credits_updated for this user');

  const endpoint = await findEndpoint(db, delivery.instance_id, delivery.endpoint_id);
  const keys = await webhookSigningKeys(db, deps.secretBox, delivery.instance_id);
  if (!endpoint || !keys) return end('cancelled', 'endpoint or instance no longer exists');
  if (endpoint.status === 'disabled') return end('dead_lettered', 'endpoint disabled');
  const url = endpoint.kind === 'default' ? defaultEndpointUrl(keys.site_url) : endpoint.url!;

  // The host's pace is checked before anything is sent: a backlogged site waits its turn.
  const host = new URL(url).host;
  const pace = deps.pacer.tryAcquire(host);
  if (!pace.granted) {
    return { kind: 'deferred', retry_at_ms: pace.retryAtMs, reason: pace.reason, host, now_ms: Date.now() };
  }

  const startedAt = new Date();
  const timestamp = Math.floor(startedAt.getTime() / 1000);
  let result: SafePostResult;
  try {
    result = await safePost({
      url,
      body: event.body,
      headers: webhookHeaders(keys, event, timestamp),
      allowPrivateNetworks: deps.allowPrivateNetworks,
      timeoutMs: deps.timeoutMs ?? 30_000,
      resolve: deps.resolve,
      signal: deps.signal,
    });
  } catch (error) {
    pace.lease.release('neutral');
    throw error;
  }
  const now = new Date();
  const retryAfterMs = releaseForResult(pace.lease, result, now);

  const delivered = result.kind === 'response' && result.status >= 200 && result.status < 300;
  const gone = result.kind === 'response' && result.status === 410;
  const error = describeFailure(result);
  const outcome = delivered ? 'delivered' : gone ? 'gone' : result.kind === 'refused' ? 'refused' : 'failed';
  observeWebhookAttempt(outcome, result.latencyMs, now.getTime() - delivery.created_at.getTime());
  await recordAttempt(db, {
    attempt_key: `${input.run_id}:${input.attempt}`,
    delivery_id: delivery.delivery_id,
    event_id: delivery.event_id,
    event_type: delivery.event_type,
    endpoint_id: delivery.endpoint_id,
    instance_id: delivery.instance_id,
    attempt: input.attempt,
    url,
    started_at: startedAt,
    latency_ms: result.latencyMs,
    outcome,
    ...(result.kind === 'response' ? { status_code: result.status, ...loggableBody(result) } : {}),
    ...(error ? { error } : {}),
  });
  await updateDelivery(db, delivery, { delivered, gone, result, error, now });
  // Interrupted by our own side (worker shutting down): fail the activity so Temporal runs it again,
  // on this worker after a restart or on another one, instead of counting it against the receiver.
  if (deps.signal?.aborted && !delivered) throw deps.signal.reason ?? new Error('attempt cancelled');

  const health = { db, logger: deps.logger, disableAfterMs: deps.disableEndpointAfterMs };
  if (delivered) {
    await noteEndpointSuccess(health, endpoint, now);
    return {
      kind: 'delivered',
      status_code: (result as { status: number }).status,
      host,
      now_ms: now.getTime(),
    };
  }
  if (gone)
    return { kind: 'ended', status: 'gone', reason: 'receiver answered 410 Gone', now_ms: now.getTime() };
  await noteEndpointFailure(health, endpoint, url, now);
  return {
    kind: 'failed',
    host,
    error: error ?? 'failed',
    ...(result.kind === 'response' ? { status_code: result.status } : {}),
    ...(retryAfterMs !== undefined ? { retry_after_ms: retryAfterMs } : {}),
    now_ms: now.getTime(),
  };
}

/**
 * Gives the host's slot back with what the answer says about its load (and its Retry-After, which
 * is returned for the retry schedule).
 */
export function releaseForResult(
  lease: ReceiverLease,
  result: SafePostResult,
  now: Date,
): number | undefined {
  const retryAfterMs =
    result.kind === 'response' ? parseRetryAfter(result.retryAfter, now.getTime()) : undefined;
  const verdict =
    result.kind === 'response'
      ? verdictForStatus(result.status)
      : result.kind === 'failed'
        ? 'overloaded'
        : 'neutral';
  lease.release(verdict, retryAfterMs);
  return retryAfterMs;
}

/**
 * What of an answer the attempt log keeps for the plugin to see: the first 2 KB, unless it came from
 * a private address (possible only where private networks are allowed): otherwise a webhook URL
 * would let a plugin read our internal services' answers.
 */
export function loggableBody(result: { body: string; address: string }): { response_body?: string } {
  return forbiddenAddressReason(result.address) ? {} : { response_body: result.body };
}

export function describeFailure(result: SafePostResult): string | undefined {
  if (result.kind === 'refused') return `refused: ${result.reason}`;
  if (result.kind === 'failed') return result.timedOut ? `timeout: ${result.error}` : result.error;
  if (result.status >= 300 && result.status < 400)
    return `HTTP ${result.status} (redirects are not followed)`;
  if (result.status < 200 || result.status >= 300) return `HTTP ${result.status}`;
  return undefined;
}

async function updateDelivery(
  db: Db,
  delivery: WebhookDeliveryDoc,
  outcome: { delivered: boolean; gone: boolean; result: SafePostResult; error?: string; now: Date },
) {
  const { delivered, gone, result, error, now } = outcome;
  const status = delivered ? 'delivered' : gone ? 'gone' : 'pending';
  await webhookDeliveries(db).updateOne(
    { _id: delivery.delivery_id },
    {
      $set: {
        status,
        updated_at: now,
        last_attempt_at: now,
        ...(result.kind === 'response' ? { last_status_code: result.status } : {}),
        ...(delivered ? { delivered_at: now } : {}),
        ...(gone ? { end_reason: 'receiver answered 410 Gone' } : {}),
        ...(error ? { last_error: error } : {}),
      },
      ...(error ? {} : { $unset: { last_error: '' } }),
      // Single writer (this delivery's workflow), so no two updates race. A retried activity may
      // count one attempt twice: this is the operators' counter; the attempt log is keyed.
      $inc: { attempts: 1 },
    },
  );
}
