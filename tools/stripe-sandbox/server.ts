import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiHandler } from './api';
import { SandboxApiError } from './api-error';
import { checkoutPageRoutes } from './checkout-page';
import { controlRoutes } from './control';
import { EventLog } from './events';
import { FaultInjector } from './faults';
import { BodyTooLargeError, matchRoute, type Route, readBody, sendHtml, sendJson } from './http';
import { PaymentLifecycle, type SettleOutcome } from './lifecycle';
import { SandboxStore } from './store';
import { WebhookSender } from './webhooks';

export interface StripeSandboxOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Where signed events are POSTed; null to record events without sending them. */
  webhookUrl: string | null;
  /** The endpoint's signing secret (`whsec_...`); receivers verify with the same value. */
  webhookSecret: string;
  /** Base of the checkout page URLs, when browsers reach the sandbox by another name. */
  publicUrl?: string;
  /** Accept only this secret key; by default any `sk_test_...` key is accepted. */
  apiKey?: string;
  /** JSON file to keep state across restarts; in memory only when omitted. */
  stateFile?: string;
  /** How long the checkout page's async payments stay processing. Default 5 s. */
  asyncSettleMs?: number;
  log?: (line: string) => void;
}

export interface StripeSandbox {
  /** Base URL: use it as STRIPE_API_URL. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

function indexPage(url: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local Stripe sandbox</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto">
<h1>Local Stripe sandbox</h1>
<p>Point the stripe client here with <code>STRIPE_API_URL=${url}</code> and any <code>sk_test_...</code> key.</p>
<ul><li><a href="/_sandbox/events">/_sandbox/events</a>: events and their deliveries</li>
<li><a href="/_sandbox/webhooks">/_sandbox/webhooks</a>: where events go</li>
<li><code>/checkout/&lt;session id&gt;</code>: the payment page of a Checkout Session</li></ul>
</body></html>`;
}

export async function startStripeSandbox(options: StripeSandboxOptions): Promise<StripeSandbox> {
  const log = options.log ?? (() => {});
  const store = new SandboxStore(options.stateFile);
  const sender = new WebhookSender({ url: options.webhookUrl, enabled: true }, options.webhookSecret);
  const events = new EventLog(store, () => (sender.settings.enabled && sender.settings.url ? 1 : 0));
  const lifecycle = new PaymentLifecycle(store, events);
  const faults = new FaultInjector();
  const timers = new Set<NodeJS.Timeout>();
  let publicUrl = options.publicUrl?.replace(/\/$/, '') ?? '';

  const later = (delayMs: number, run: () => Promise<void>) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run().catch((error) => log(`[stripe-sandbox] ${(error as Error).message}`));
    }, delayMs);
    timers.add(timer);
  };
  const settleLater = (intentId: string, outcome: SettleOutcome, delayMs: number) =>
    later(delayMs, () => sender.dispatch(lifecycle.settlePaymentIntent(intentId, outcome)));

  const handleApi = createApiHandler({
    store,
    lifecycle,
    faults,
    publicUrl: () => publicUrl,
    apiKey: options.apiKey,
    dispatch: (batch) => void sender.dispatch(batch),
  });
  const routes: Route[] = [
    ...checkoutPageRoutes({
      store,
      lifecycle,
      sender,
      settleLater,
      asyncSettleMs: options.asyncSettleMs ?? 5000,
    }),
    ...controlRoutes({ store, lifecycle, sender, faults, settleLater }),
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const query = url.search.slice(1);
    try {
      const body = await readBody(req);
      if (url.pathname.startsWith('/v1/')) {
        await handleApi({ req, res, params: [], query, body }, url.pathname);
        return;
      }
      if (req.method === 'GET' && url.pathname === '/') {
        sendHtml(res, 200, indexPage(publicUrl));
        return;
      }
      const found = matchRoute(routes, req.method ?? 'GET', url.pathname);
      if (!found)
        throw new SandboxApiError(
          404,
          'invalid_request_error',
          `No sandbox route ${req.method} ${url.pathname}`,
        );
      await found.route.handler({ req, res, params: found.params, query, body });
    } catch (error) {
      if (res.headersSent) return;
      if (error instanceof SandboxApiError) sendJson(res, error.status, error.toBody());
      else if (error instanceof SyntaxError) {
        sendJson(res, 400, { error: { type: 'invalid_request_error', message: error.message } });
      } else if (error instanceof BodyTooLargeError) {
        sendJson(res, 413, { error: { type: 'invalid_request_error', message: error.message } });
      } else {
        log(`[stripe-sandbox] internal error: ${(error as Error).stack ?? error}`);
        sendJson(res, 500, { error: { type: 'api_error', message: 'The sandbox hit an internal error.' } });
      }
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  publicUrl ||= url;

  // Sessions past expires_at expire by themselves, as on Stripe.
  const sweep = setInterval(() => {
    const expired = lifecycle.expireDueSessions();
    if (expired.length > 0) void sender.dispatch(expired);
  }, 2000);
  sweep.unref();

  log(`[stripe-sandbox] listening on ${url}; webhooks to ${options.webhookUrl ?? '(nowhere)'}`);
  return {
    url,
    port,
    async stop() {
      clearInterval(sweep);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.flush();
    },
  };
}
