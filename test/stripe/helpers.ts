import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CheckoutSessionRequest, createStripeGateway } from '../../src/stripe/gateway';
import { type StripeSandboxOptions, startStripeSandbox } from '../../tools/stripe-sandbox/server';

// A sandbox per suite, and a real HTTP endpoint that records the webhooks the sandbox sends.

export const TEST_WEBHOOK_SECRET = 'whsec_test_sandbox_0123456789abcdef';
export const TEST_SECRET_KEY = 'sk_test_gateway_suite';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  event: { id: string; type: string; data: { object: Record<string, unknown> } } & Record<string, unknown>;
}

export async function startWebhookReceiver() {
  const received: ReceivedWebhook[] = [];
  let status = 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      received.push({ headers: req.headers, rawBody, event: JSON.parse(rawBody.toString('utf8')) });
      res.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/stripe/webhook`,
    received,
    types: () => received.map((webhook) => webhook.event.type),
    clear: () => received.splice(0, received.length),
    /** What the receiver answers from now on (e.g. 500 to play an outage). */
    answerWith: (next: number) => {
      status = next;
    },
    async waitFor(predicate: (webhooks: ReceivedWebhook[]) => boolean, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline)
          throw new Error(`webhooks not received in time; got ${received.map((w) => w.event.type)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

export async function startTestSandbox(options: Partial<StripeSandboxOptions> = {}) {
  const receiver = await startWebhookReceiver();
  const sandbox = await startStripeSandbox({
    port: 0,
    webhookUrl: receiver.url,
    webhookSecret: TEST_WEBHOOK_SECRET,
    ...options,
  });
  /** POST to a /_sandbox control endpoint; returns status and JSON body. */
  async function control(path: string, body: unknown = {}) {
    const response = await fetch(`${sandbox.url}/_sandbox/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: tests read control answers loosely
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }
  return {
    sandbox,
    receiver,
    control,
    /** The real gateway, pointed at this sandbox. */
    gateway: createStripeGateway({ secretKey: TEST_SECRET_KEY, apiUrl: sandbox.url }),
    async stop() {
      await sandbox.stop();
      await receiver.stop();
    },
  };
}

export type TestSandbox = Awaited<ReturnType<typeof startTestSandbox>>;

let purchaseCounter = 0;

/** A checkout request as the purchase workflow would make it. */
export function checkoutRequest(overrides: Partial<CheckoutSessionRequest> = {}): CheckoutSessionRequest {
  purchaseCounter += 1;
  const purchaseId = `pur_test_${Date.now()}_${purchaseCounter}`;
  return {
    purchaseId,
    idempotencyKey: `checkout:${purchaseId}`,
    amount: 750,
    currency: 'JPY',
    productName: '50 article credits',
    successUrl: 'https://shop.example/thanks?session={CHECKOUT_SESSION_ID}',
    cancelUrl: 'https://shop.example/cancelled',
    customerEmail: 'buyer@example.com',
    metadata: {
      instance_id: 'inst_1',
      user_id: '42',
      user_email: 'buyer@example.com',
      package_id: 'pkg_article_50',
      credit_type: 'article',
    },
    ...overrides,
  };
}
