// Keeps one slow or failing site from using up the worker. Each receiving host gets at most
// `maxConcurrency` requests in flight from this worker; a host that keeps answering 2xx quickly
// (within `fast.answerMs`) is given one more at a time, up to `fast.maxConcurrency`, and slow
// answers take it back one at a time, so only a site that has shown it copes gets more than the
// base cap. A host that answers 429, 5xx or not at all gets fewer (halved, down to 1) and a pause
// (its Retry-After, else 0.5 s doubling up to 60 s) that every delivery to it respects; each success
// then allows one more concurrent request again, so it recovers gradually. The state lives in this
// worker's memory: several workers each keep their own, which is what protects their own activity
// slots.

export type ReceiverVerdict = 'ok' | 'overloaded' | 'neutral';

export interface ReceiverLease {
  /** `retryAfterMs` is the receiver's own Retry-After, when it sent one. */
  release(verdict: ReceiverVerdict, retryAfterMs?: number): void;
}

export type PaceDecision =
  | { granted: true; lease: ReceiverLease }
  | { granted: false; reason: 'busy' | 'backing_off'; retryAtMs: number };

export interface FastHostPacing {
  /** The most requests in flight to a host that has kept answering quickly. */
  maxConcurrency: number;
  /** A 2xx within this long (from taking the slot to the whole answer) counts as quick. */
  answerMs: number;
}

interface HostState {
  inFlight: number;
  limit: number;
  failures: number;
  blockedUntil: number;
}

const maxHostPauseMs = 3600_000;
/** Healthy hosts given more than the base cap are remembered between bursts, this many at most. */
export const maxRememberedFastHosts = 10_000;

export class ReceiverPacer {
  private readonly hosts = new Map<string, HostState>();

  private readonly fast: FastHostPacing;

  constructor(
    private readonly maxConcurrency: number,
    private readonly now: () => number = Date.now,
    fast: Partial<FastHostPacing> = {},
  ) {
    this.fast = {
      maxConcurrency: Math.max(maxConcurrency, fast.maxConcurrency ?? maxConcurrency),
      answerMs: fast.answerMs ?? 50,
    };
  }

  /** Whether a request to `host` would have to wait, without taking a slot. */
  wouldWait(host: string): Extract<PaceDecision, { granted: false }> | undefined {
    const state = this.hosts.get(host);
    if (!state) return undefined;
    const now = this.now();
    if (state.blockedUntil > now)
      return { granted: false, reason: 'backing_off', retryAtMs: state.blockedUntil };
    if (state.inFlight >= state.limit) return { granted: false, reason: 'busy', retryAtMs: now };
    return undefined;
  }

  tryAcquire(host: string): PaceDecision {
    const waiting = this.wouldWait(host);
    if (waiting) return waiting;
    const state = this.hosts.get(host) ?? {
      inFlight: 0,
      limit: this.maxConcurrency,
      failures: 0,
      blockedUntil: 0,
    };
    state.inFlight += 1;
    this.hosts.set(host, state);
    const acquiredAt = this.now();
    let released = false;
    return {
      granted: true,
      lease: {
        release: (verdict, retryAfterMs) => {
          if (released) return;
          released = true;
          this.settle(host, state, verdict, this.now() - acquiredAt, retryAfterMs);
        },
      },
    };
  }

  /** For tests and diagnostics. */
  snapshot(host: string): Readonly<HostState> | undefined {
    const state = this.hosts.get(host);
    return state ? { ...state } : undefined;
  }

  private settle(
    host: string,
    state: HostState,
    verdict: ReceiverVerdict,
    tookMs: number,
    retryAfterMs?: number,
  ) {
    state.inFlight -= 1;
    if (verdict === 'ok') {
      state.failures = 0;
      if (state.limit < this.maxConcurrency) state.limit += 1;
      else if (tookMs <= this.fast.answerMs)
        state.limit = Math.min(this.fast.maxConcurrency, state.limit + 1);
      else state.limit = Math.max(this.maxConcurrency, state.limit - 1);
    } else if (verdict === 'overloaded') {
      state.failures += 1;
      state.limit = Math.max(1, Math.floor(state.limit / 2));
      const pause = retryAfterMs ?? Math.min(60_000, 500 * 2 ** (state.failures - 1));
      state.blockedUntil = Math.max(state.blockedUntil, this.now() + Math.min(pause, maxHostPauseMs));
    }
    // A healthy idle host at the base cap needs no memory; one given more keeps it between bursts,
    // unless too many are remembered (it then starts again from the base cap).
    const healthy = state.failures === 0;
    const plain = healthy && state.limit === this.maxConcurrency;
    const crowded = healthy && this.hosts.size > maxRememberedFastHosts;
    if (state.inFlight === 0 && (plain || crowded)) this.hosts.delete(host);
  }
}

/** Seconds or an HTTP date, as milliseconds from `nowMs`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** 408, 425, 429 and 5xx say "too much, or broken": slow down. Other answers say nothing about load. */
export function verdictForStatus(status: number): ReceiverVerdict {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'overloaded';
  return 'neutral';
}
