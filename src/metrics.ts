import { Counter, collectDefaultMetrics, Histogram, type Metric, Registry } from 'prom-client';

// Every series this backend exposes at /metrics, with its help text, in one place (the README's
// "Metrics" table lists them). The series are made unregistered; each process exposes the groups it
// feeds (exposeMetrics): the API `http` and `ledger`, the worker `ledger`, `purchases` and `webhooks`.
// Code anywhere may count (the functions below): a series no process exposes costs an object only.

const seconds = (ms: number) => ms / 1000;

const http = {
  requests: new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, declared route (`/api/v1/webhooks/:id`; `unmatched` when no route matched) and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [],
  }),
  duration: new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the request arriving to its answer, by method, declared route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [],
  }),
};

const ledger = {
  writes: new Counter({
    name: 'ledger_writes_total',
    help: 'Ledger write attempts by entry kind and result: written, replayed (the key was applied before), refused (e.g. not enough credits), conflict (the key with another request), busy (too many lost races), error',
    labelNames: ['kind', 'result'] as const,
    registers: [],
  }),
  lostRaces: new Counter({
    name: 'ledger_lost_races_total',
    help: "Ledger inserts that lost the account's next seq to another writer (each is retried), by entry kind",
    labelNames: ['kind'] as const,
    registers: [],
  }),
};

const purchases = {
  outcomes: new Counter({
    name: 'purchase_outcomes_total',
    help: 'Purchases whose recorded status changed to `status` (fulfilled, expired, failed, refunded, disputed); a purchase fulfilled then refunded counts once in each',
    labelNames: ['status'] as const,
    registers: [],
  }),
  fulfilment: new Histogram({
    name: 'purchase_fulfilment_seconds',
    help: 'From the purchase starting (checkout session or payment intent made) to its credits granted, including the time the buyer took to pay',
    buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 6 * 3600, 24 * 3600],
    registers: [],
  }),
};

const webhooks = {
  attempts: new Counter({
    name: 'webhook_attempts_total',
    help: 'HTTP attempts at delivering a webhook to a plugin, by outcome: delivered (2xx), failed (other answer, timeout, network error), gone (410), refused (address not allowed)',
    labelNames: ['outcome'] as const,
    registers: [],
  }),
  attemptDuration: new Histogram({
    name: 'webhook_attempt_duration_seconds',
    help: "One attempt's HTTP round trip to the plugin's site, by outcome",
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [],
  }),
  deliveryLatency: new Histogram({
    name: 'webhook_delivery_latency_seconds',
    help: 'From a webhook being queued to its delivery (the 2xx), retries included',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600],
    registers: [],
  }),
};

export type MetricGroup = 'http' | 'ledger' | 'purchases' | 'webhooks';

const groups: Record<MetricGroup, Metric[]> = {
  http: Object.values(http) as Metric[],
  ledger: Object.values(ledger) as Metric[],
  purchases: Object.values(purchases) as Metric[],
  webhooks: Object.values(webhooks) as Metric[],
};

/** The process's registry: what its /metrics shows (plus, in the worker, the Temporal SDK's own). */
export const metricsRegistry = new Registry();
let defaultsCollected = false;

/** Adds the groups to what this process's /metrics shows, with Node's process metrics (idempotent). */
export function exposeMetrics(...names: MetricGroup[]): void {
  if (!defaultsCollected) {
    defaultsCollected = true;
    collectDefaultMetrics({ register: metricsRegistry });
  }
  for (const name of names) {
    for (const metric of groups[name]) {
      const { name: metricName } = metric as unknown as { name: string };
      if (!metricsRegistry.getSingleMetric(metricName)) metricsRegistry.registerMetric(metric);
    }
  }
}

/** Every exposed series in Prometheus's text format, and its content type. */
export async function metricsText(): Promise<{ contentType: string; text: string }> {
  return { contentType: metricsRegistry.contentType, text: await metricsRegistry.metrics() };
}

export function observeHttpRequest(method: string, route: string, status: number, ms: number): void {
  const labels = { method, route, status: String(status) };
  http.requests.inc(labels);
  http.duration.observe(labels, seconds(ms));
}

export type LedgerWriteResult = 'written' | 'replayed' | 'refused' | 'conflict' | 'busy' | 'error';

export function countLedgerWrite(kind: string, result: LedgerWriteResult): void {
  ledger.writes.inc({ kind, result });
}

export function countLedgerLostRace(kind: string): void {
  ledger.lostRaces.inc({ kind });
}

/**
 * A purchase's view was saved: counts a change of status, and the first fulfilment's latency.
 * `before` is what was stored until now (null: no record).
 */
export function observePurchaseSaved(
  before: { status?: string; fulfilled?: boolean } | null,
  view: { status: string; created_at: string; fulfilled_at?: string | undefined },
): void {
  if (before?.status !== view.status) purchases.outcomes.inc({ status: view.status });
  if (view.fulfilled_at && !before?.fulfilled) {
    const ms = Date.parse(view.fulfilled_at) - Date.parse(view.created_at);
    if (Number.isFinite(ms) && ms >= 0) purchases.fulfilment.observe(seconds(ms));
  }
}

/** One HTTP attempt at a webhook; `queuedForMs` when it was delivered (time since it was queued). */
export function observeWebhookAttempt(outcome: string, latencyMs: number, queuedForMs?: number): void {
  webhooks.attempts.inc({ outcome });
  webhooks.attemptDuration.observe({ outcome }, seconds(latencyMs));
  if (outcome === 'delivered' && queuedForMs !== undefined && queuedForMs >= 0) {
    webhooks.deliveryLatency.observe(seconds(queuedForMs));
  }
}
