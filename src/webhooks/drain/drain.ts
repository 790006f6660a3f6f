import { setMaxListeners } from 'node:events';
import type { EndpointDrainInput, EndpointDrainResult } from '../../../workflows/webhook-endpoint/contract';
import { observeWebhookAttempt } from '../../metrics';
import { findInstanceCached, refreshInstance, webhookSigningKeys } from '../../tenancy/instances';
import { confirmSiteVerification } from '../../tenancy/site-verification';
import {
  type AttemptDeps,
  describeFailure,
  loggableBody,
  releaseForResult,
  webhookHeaders,
} from '../attempt';
import { nextAttemptAt } from '../backoff';
import type { DeliveryStatus } from '../deliveries';
import { noteEndpointFailure, noteEndpointSuccess } from '../endpoint-health';
import { defaultEndpointUrl, findEndpoint, listEndpointsCached, type WebhookEndpointDoc } from '../endpoints';
import { endpointKey, entriesOf, type QueueEntryDoc } from '../queue';
import { safePost } from '../safe-post';
import type { SigningKeys } from '../signing';
import { markAsleep, markAwake } from '../wake';
import { type AttemptRecord, type DrainWrites, drainWrites } from './drain-writes';
import { type DrainHandle, localDrains } from './local-drains';
import { supersedeMemory } from './supersede-memory';

// One endpoint's drain: sends what is queued for it, in order, as fast as its host's cap allows,
// and records each outcome. Runs as one long activity of the endpoint's workflow, so it is the only
// writer of the endpoint's queue entries. It keeps going while work arrives (from an in-process
// publisher directly, from others through the shared poll), and returns when the endpoint has been
// quiet for `idleMs`, saying when its earliest retry is due.

/** What sending needs (the legacy attempt takes the same), plus a drain's own controls. */
export interface DrainDeps extends Omit<AttemptDeps, 'signal'> {
  /** Activity cancellation (or the end of the worker's shutdown grace): stop at once, in-flight too. */
  signal: AbortSignal;
  /** The worker begins to shut down: send nothing new, finish what is in flight, hand back. */
  stopping?: AbortSignal;
  heartbeat(): void;
  /** Quiet this long with nothing in flight: go to sleep. */
  idleMs?: number;
  /** A drain hands back to its workflow after this long (history stays short, slots rotate). */
  maxDrainMs?: number;
}

/** Past its window with no attempt at all (its host kept backing off): give up a day later. */
const neverAttemptedGraceMs = 24 * 3600_000;
/** How long a drain trusts what it read about its endpoint (a disable or rotation shows within it). */
const targetTtlMs = 1_000;
/** A retry due further off than this is left to the workflow's timer instead of holding a slot. */
const holdForRetryMs = 2_000;
const heartbeatEveryMs = 2_000;
/** Past this many drains in one process (of its 500 activity slots), quiet drains sleep soon. */
const crowdedDrains = 300;

interface Target {
  endpoint: WebhookEndpointDoc;
  keys: SigningKeys;
  url: string;
  host: string;
  readAt: number;
}

type Ending = Extract<DeliveryStatus, 'gone' | 'superseded' | 'cancelled' | 'dead_lettered' | 'failed'>;

export async function drainEndpoint(
  deps: DrainDeps,
  input: EndpointDrainInput,
): Promise<EndpointDrainResult> {
  const drain = new EndpointDrain(deps, input);
  return drain.run();
}

class EndpointDrain implements DrainHandle {
  readonly key: string;
  private readonly known = new Map<string, QueueEntryDoc>();
  /**
   * Rounds ended here (`<delivery id>#<generation>`), whose removal a poll may not see yet: never
   * taken again. A replay is a new generation, so it is taken.
   */
  private readonly finished = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private readonly writes: DrainWrites;
  private readonly supersede = supersedeMemory();
  private open = true;
  private failure: unknown;
  private nudge: (() => void) | undefined;
  private attempts = 0;
  /** The last failed attempt, for the workflow's current details (what operators see first). */
  private lastFailure: string | undefined;
  private ended = 0;
  private lastWorkAt = Date.now();
  private readonly startedAt = Date.now();
  private target: Target | undefined;
  private backingOffUntil = 0;

  constructor(
    private readonly deps: DrainDeps,
    private readonly input: EndpointDrainInput,
  ) {
    this.key = endpointKey(input);
    this.writes = drainWrites(deps.db);
  }

  wants(id: string, generation: number): boolean {
    return this.open && !this.known.has(id) && !this.finished.has(`${id}#${generation}`);
  }

  offer(entry: QueueEntryDoc): boolean {
    if (!this.open) return false;
    if (!this.known.has(entry._id) && !this.finished.has(`${entry._id}#${entry.generation}`)) {
      this.known.set(entry._id, entry);
      this.supersede.note(this.key, entry);
      this.lastWorkAt = Date.now();
    }
    this.wake();
    return true;
  }

  async run(): Promise<EndpointDrainResult> {
    const drains = localDrains(this.deps.db);
    // Each request in flight listens to the signal (a fast host may have 16 at once), plus the drain.
    setMaxListeners(64, this.deps.signal);
    for (const entry of await entriesOf(this.deps.db, this.key)) this.offer(entry);
    drains.register(this);
    const abort = () => this.wake();
    this.deps.signal.addEventListener('abort', abort);
    this.deps.stopping?.addEventListener('abort', abort);
    const beat = setInterval(() => this.deps.heartbeat(), heartbeatEveryMs);
    try {
      for (;;) {
        if (this.deps.signal.aborted || this.deps.stopping?.aborted || this.failure) break;
        const now = Date.now();
        this.pruneFinished(now);
        // The endpoint is read (from the process's one-second caches) only when there is something
        // to send: an idle drain costs nothing but its timer.
        if (this.hasDue(now)) {
          const target = await this.confirmedTarget(now);
          if (target === 'missing' || target.endpoint.status === 'disabled') {
            this.endEverything(target === 'missing' ? 'missing' : 'disabled');
            if (this.inFlight.size === 0) {
              if (await this.trySleep(drains)) break;
              continue;
            }
          } else {
            this.sendDue(target, now);
          }
        }
        const wait = this.nextWakeIn(now);
        if (wait === 'sleep') {
          if (await this.trySleep(drains)) break;
          continue;
        }
        if (wait === 'hand_back') break;
        await this.waitFor(wait);
      }
      // Let what is in flight finish (or abort with the signal) and be written down.
      while (this.inFlight.size > 0) await this.waitFor(50);
      await this.writes.flushed();
    } finally {
      clearInterval(beat);
      this.deps.signal.removeEventListener('abort', abort);
      this.deps.stopping?.removeEventListener('abort', abort);
      this.open = false;
      drains.unregister(this);
    }
    if (this.failure) throw this.failure;
    if (this.deps.signal.aborted) throw new Error('drain interrupted (worker shutting down or cancelled)');
    return this.result();
  }

  private result(): EndpointDrainResult {
    const result: EndpointDrainResult = {
      attempts: this.attempts,
      ended: this.ended,
      ...(this.lastFailure ? { last_failure: this.lastFailure } : {}),
    };
    // Handed back while awake (time is up, or the worker is stopping): drain again now, wherever.
    if (this.open && (this.known.size > 0 || this.deps.stopping?.aborted))
      return { ...result, next_due_in_ms: 0 };
    if (this.known.size === 0) return result;
    const next = Math.min(...[...this.known.values()].map((entry) => entry.due_at.getTime()));
    return { ...result, next_due_in_ms: Math.max(0, next - Date.now(), this.backingOffUntil - Date.now()) };
  }

  /** The next thing to do: wait this many ms, go to sleep, or hand back to the workflow. */
  private nextWakeIn(now: number): number | 'sleep' | 'hand_back' {
    if (this.inFlight.size > 0) return 250; // each finishing attempt wakes the loop sooner
    if (now - this.startedAt >= (this.deps.maxDrainMs ?? 5 * 60_000)) return 'hand_back';
    let nextDue = Number.POSITIVE_INFINITY;
    for (const entry of this.known.values()) nextDue = Math.min(nextDue, entry.due_at.getTime());
    nextDue = Math.max(nextDue, this.backingOffUntil);
    const quietLeft = this.idleMs() - (now - this.lastWorkAt);
    if (nextDue - now > holdForRetryMs && quietLeft <= 0) return 'sleep';
    // Until the next retry is due or the quiet period is over; a new entry wakes it at once.
    // (Due but not sent: the host's cap is taken by another drain, or it is backing off.)
    return Math.max(5, Math.min(nextDue - now, Math.max(quietLeft, 250)));
  }

  /**
   * How long a drain stays awake with nothing to do: long enough that steady traffic (an event every
   * few seconds) finds it awake and needs no signal; short when a broadcast has woken many drains,
   * so each lets go of its activity slot soon after its work.
   */
  private idleMs(): number {
    if (this.deps.idleMs !== undefined) return this.deps.idleMs;
    return localDrains(this.deps.db).size > crowdedDrains ? 1_000 : 30_000;
  }

  private hasDue(now: number): boolean {
    for (const entry of this.known.values()) {
      if (entry.due_at.getTime() <= now && !this.inFlight.has(entry._id)) return true;
    }
    return false;
  }

  /**
   * Out of work: say so (remove the wake), then look once more, since a publisher may have queued
   * something meanwhile without waking us. True when the drain may end.
   */
  private async trySleep(drains: ReturnType<typeof localDrains>): Promise<boolean> {
    this.open = false;
    drains.unregister(this);
    await this.writes.flushed();
    await markAsleep(this.deps.db, this.input);
    const late = (await entriesOf(this.deps.db, this.key)).filter((entry) => !this.known.has(entry._id));
    if (late.length === 0) return true;
    // Work after all: awake again (a publisher that woke the workflow meanwhile costs one extra drain).
    await markAwake(this.deps.db, this.input);
    this.open = true;
    drains.register(this);
    for (const entry of late) this.offer(entry);
    this.lastWorkAt = Date.now();
    return false;
  }

  private wake(): void {
    const nudge = this.nudge;
    this.nudge = undefined;
    nudge?.();
  }

  private waitFor(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.nudge = undefined;
        resolve();
      }, ms);
      this.nudge = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async currentTarget(now: number): Promise<Target | 'missing'> {
    if (this.target && now - this.target.readAt < targetTtlMs) return this.target;
    const { db, secretBox } = this.deps;
    // Cached for at most a second per process, shared with the publishers.
    const [endpoints, keys] = await Promise.all([
      listEndpointsCached(db, this.input.instance_id),
      webhookSigningKeys(db, secretBox, this.input.instance_id, new Date(now), findInstanceCached),
    ]);
    const endpoint = endpoints.find((candidate) => candidate.endpoint_id === this.input.endpoint_id);
    return this.targetOf(endpoint, keys, now);
  }

  private targetOf(
    endpoint: WebhookEndpointDoc | null | undefined,
    keys: (SigningKeys & { site_url: string }) | null | undefined,
    now: number,
  ): Target | 'missing' {
    if (!endpoint || !keys) {
      this.target = undefined;
      return 'missing';
    }
    const url = endpoint.kind === 'default' ? defaultEndpointUrl(keys.site_url) : endpoint.url!;
    this.target = { endpoint, keys, url, host: new URL(url).host, readAt: now };
    return this.target;
  }

  /**
   * The target, with a disabled or missing endpoint read again from the database (not the caches)
   * before everything queued is ended for it: an endpoint enabled (or registered) less than a second
   * ago, then replayed to, must not be dead-lettered (or cancelled) on the strength of a stale read.
   */
  private async confirmedTarget(now: number): Promise<Target | 'missing'> {
    const cached = await this.currentTarget(now);
    if (cached !== 'missing' && cached.endpoint.status !== 'disabled') return cached;
    const { db, secretBox } = this.deps;
    const id = this.input.instance_id;
    const [endpoint, keys] = await Promise.all([
      findEndpoint(db, id, this.input.endpoint_id),
      webhookSigningKeys(db, secretBox, id, new Date(now), refreshInstance),
    ]);
    return this.targetOf(endpoint, keys, now);
  }

  /** The instance's site and keys read afresh (no cache), for a send that must go where it is now. */
  private async currentSite(): Promise<{ siteUrl: string; url: string; keys: SigningKeys }> {
    const { db, secretBox } = this.deps;
    const id = this.input.instance_id;
    const keys = await webhookSigningKeys(db, secretBox, id, new Date(), refreshInstance);
    if (!keys) throw new Error(`instance ${id} is gone`);
    return { siteUrl: keys.site_url, url: defaultEndpointUrl(keys.site_url), keys };
  }

  /** Starts every due entry its host has room for, oldest first; stops at the first refusal. */
  private sendDue(target: Target, now: number): void {
    if (this.backingOffUntil > now) {
      this.giveUpOnStarved(now);
      return;
    }
    // In the order entries arrived (the order they were queued, near enough), the due ones only.
    for (const entry of this.known.values()) {
      if (entry.due_at.getTime() > now || this.inFlight.has(entry._id)) continue;
      if (this.supersede.isSuperseded(this.key, entry)) {
        this.end(entry, 'superseded', 'a newer credits_updated for this user');
        continue;
      }
      const pace = this.deps.pacer.tryAcquire(target.host);
      if (!pace.granted) {
        if (pace.reason === 'backing_off') {
          this.backingOffUntil = pace.retryAtMs;
          this.giveUpOnStarved(now);
        }
        return; // busy: a finishing attempt wakes the loop
      }
      this.inFlight.add(entry._id);
      this.lastWorkAt = now;
      void this.attempt(target, entry, pace.lease)
        .catch((error) => {
          this.failure ??= error;
        })
        .finally(() => {
          this.inFlight.delete(entry._id);
          this.wake();
        });
    }
  }

  /** A host that keeps backing off: entries past their window end instead of waiting forever. */
  private giveUpOnStarved(now: number): void {
    for (const entry of this.known.values()) {
      if (this.inFlight.has(entry._id) || entry.due_at.getTime() > now) continue;
      const deadline = entry.enqueued_at.getTime() + entry.schedule.window_ms;
      if (entry.attempts > 0 ? now >= deadline : now >= deadline + neverAttemptedGraceMs) {
        this.exhaust(entry, 'receiver host kept backing off');
      }
    }
  }

  private async attempt(
    target: Target,
    entry: QueueEntryDoc,
    lease: { release(verdict: 'ok' | 'overloaded' | 'neutral', retryAfterMs?: number): void },
  ): Promise<void> {
    // A site verification must reach the site as it is now, not as read up to a second ago.
    const verifiedSite =
      entry.event_type === 'test_webhook' && target.endpoint.kind === 'default'
        ? await this.currentSite().catch((error) => {
            lease.release('neutral');
            throw error;
          })
        : undefined;
    const sendTo = verifiedSite ? { url: verifiedSite.url, keys: verifiedSite.keys } : target;
    const startedAt = new Date();
    const result = await safePost({
      url: sendTo.url,
      body: entry.body,
      headers: webhookHeaders(sendTo.keys, entry, Math.floor(startedAt.getTime() / 1000)),
      allowPrivateNetworks: this.deps.allowPrivateNetworks,
      timeoutMs: this.deps.timeoutMs ?? 30_000,
      resolve: this.deps.resolve,
      signal: this.deps.signal,
    }).catch((error) => {
      lease.release('neutral');
      throw error;
    });
    const now = new Date();
    const retryAfterMs = releaseForResult(lease, result, now);
    this.wake(); // the host has room again: the next entry goes while this one is written down
    const delivered = result.kind === 'response' && result.status >= 200 && result.status < 300;
    // Interrupted by our own side: not the receiver's failure; the next drain sends it again.
    if (this.deps.signal.aborted && !delivered) return;

    this.attempts += 1;
    const gone = result.kind === 'response' && result.status === 410;
    const error = describeFailure(result);
    const attempt = entry.attempts + 1;
    const record: AttemptRecord = {
      attempt_key: `${entry._id}:${entry.generation}:${attempt}`,
      delivery_id: entry._id,
      event_id: entry.event_id,
      event_type: entry.event_type as AttemptRecord['event_type'],
      endpoint_id: entry.endpoint_id,
      instance_id: entry.instance_id,
      attempt,
      url: target.url,
      started_at: startedAt,
      latency_ms: result.latencyMs,
      outcome: delivered ? 'delivered' : gone ? 'gone' : result.kind === 'refused' ? 'refused' : 'failed',
      ...(result.kind === 'response' ? { status_code: result.status, ...loggableBody(result) } : {}),
      ...(error ? { error } : {}),
    };
    observeWebhookAttempt(record.outcome, result.latencyMs, now.getTime() - entry.enqueued_at.getTime());
    const health = {
      db: this.deps.db,
      logger: this.deps.logger,
      disableAfterMs: this.deps.disableEndpointAfterMs,
    };
    if (delivered) {
      // Before the entry is let go: if this write fails, the drain fails and the site is asked again.
      if (verifiedSite && (await confirmSiteVerification(this.deps.db, entry, verifiedSite.siteUrl))) {
        this.deps.logger.info({ instance_id: entry.instance_id }, 'site verified: instance active');
      }
      this.forget(entry);
      await this.writes.attempted(entry, record, {
        status: 'delivered',
        now,
        statusCode: (result as { status: number }).status,
      });
      if (target.endpoint.failing_since) {
        await noteEndpointSuccess(health, target.endpoint, now);
        target.endpoint = { ...target.endpoint, failing_since: undefined };
      }
      return;
    }
    if (gone) {
      this.forget(entry);
      await this.writes.attempted(entry, record, {
        status: 'gone',
        now,
        statusCode: 410,
        reason: 'receiver answered 410 Gone',
      });
      this.logFailedAttempt(entry, attempt, { statusCode: 410, error }, 'gone');
      return;
    }
    const next = nextAttemptAt(
      entry.schedule,
      attempt,
      now.getTime(),
      entry.enqueued_at.getTime() + entry.schedule.window_ms,
      Math.random(),
      retryAfterMs,
    );
    const statusCode = result.kind === 'response' ? result.status : undefined;
    this.lastFailure = `${entry._id} attempt ${attempt}: ${statusCode ?? error ?? 'failed'}`;
    if (next === undefined) {
      this.forget(entry);
      const status = entry.schedule.on_exhausted === 'fail' ? 'failed' : 'dead_lettered';
      const reason = `no success after ${attempt} attempts: ${error ?? 'failed'}`;
      await this.writes.attempted(entry, record, { status, now, statusCode, error, reason });
      this.logFailedAttempt(entry, attempt, { statusCode, error }, status);
      if (status === 'dead_lettered') this.logDeadLetter(entry, reason, attempt);
    } else {
      entry.attempts = attempt;
      entry.due_at = new Date(next);
      await this.writes.attempted(entry, record, {
        status: 'pending',
        now,
        statusCode,
        error,
        retryAt: entry.due_at,
      });
      this.logFailedAttempt(entry, attempt, { statusCode, error }, entry.due_at);
    }
    if (!target.endpoint.failing_since) {
      await noteEndpointFailure(health, target.endpoint, target.url, now);
      target.endpoint = { ...target.endpoint, failing_since: now };
    } else if (await noteEndpointFailure(health, target.endpoint, target.url, now)) {
      this.target = undefined; // disabled just now: the loop reads it and dead-letters the rest
    }
  }

  private pruneFinished(now: number): void {
    // Insertion order is age order; long after its removal was written, no poll returns an entry.
    for (const [id, at] of this.finished) {
      if (now - at < 10_000) break;
      this.finished.delete(id);
    }
  }

  /** Out of this drain's care: ended, or about to be. */
  private forget(entry: QueueEntryDoc): void {
    this.known.delete(entry._id);
    this.finished.set(`${entry._id}#${entry.generation}`, Date.now());
    this.ended += 1;
  }

  private end(entry: QueueEntryDoc, status: Ending, reason: string): void {
    this.forget(entry);
    void this.writes.ended(entry, status, reason).catch((error) => {
      this.failure ??= error;
    });
  }

  private exhaust(entry: QueueEntryDoc, why: string): void {
    const status = entry.schedule.on_exhausted === 'fail' ? 'failed' : 'dead_lettered';
    const reason = `${why} (${entry.attempts} attempts)`;
    this.end(entry, status, reason);
    if (status === 'dead_lettered') this.logDeadLetter(entry, reason, entry.attempts);
  }

  private endEverything(why: 'missing' | 'disabled'): void {
    for (const entry of this.known.values()) {
      if (this.inFlight.has(entry._id)) continue;
      if (why === 'missing') this.end(entry, 'cancelled', 'endpoint or instance no longer exists');
      else {
        this.end(entry, 'dead_lettered', 'endpoint disabled');
        this.logDeadLetter(entry, 'endpoint disabled', entry.attempts);
      }
    }
  }

  /**
   * Every failed attempt, for whoever watches the worker's log: which delivery, which attempt of its
   * round, what came back, and when it goes again (or how it ended). Never the body, URL or headers.
   */
  private logFailedAttempt(
    entry: QueueEntryDoc,
    attempt: number,
    result: { statusCode?: number; error?: string },
    next: Date | 'dead_lettered' | 'failed' | 'gone',
  ): void {
    this.deps.logger.warn(
      {
        instance_id: entry.instance_id,
        endpoint_id: entry.endpoint_id,
        delivery_id: entry._id,
        event_type: entry.event_type,
        attempt,
        ...(entry.generation > 0 ? { replay: entry.generation } : {}),
        status_code: result.statusCode ?? null,
        error: result.error ?? null,
        next_attempt_at: next instanceof Date ? next.toISOString() : null,
        ...(next instanceof Date ? {} : { ended: next }),
      },
      'webhook attempt failed',
    );
  }

  /** Every dead letter: the delivery is kept for replay, and nothing more will be tried on its own. */
  private logDeadLetter(entry: QueueEntryDoc, reason: string, attempts: number): void {
    this.deps.logger.error(
      {
        instance_id: entry.instance_id,
        endpoint_id: entry.endpoint_id,
        delivery_id: entry._id,
        event_type: entry.event_type,
        attempts,
        reason,
      },
      'webhook dead-lettered',
    );
  }
}
