import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A plugin site for tests: a real HTTP server on 127.0.0.1 that records every webhook it gets and
// answers as the test says (a status, after a delay, or never).

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  url: string;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: payloads are checked field by field
  json: any;
  at: number;
}

export type Answer =
  | { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  | 'hold';

export type Responder = (webhook: ReceivedWebhook, index: number) => Answer;

export async function startReceiver(responder: Responder = () => ({ status: 200, body: 'ok' })) {
  const received: ReceivedWebhook[] = [];
  const held = new Set<ServerResponse>();
  let respond = responder;
  let inFlight = 0;
  let maxInFlight = 0;
  const waiters: Array<() => void> = [];

  const server = createServer((req, res) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => {
      inFlight -= 1;
      held.delete(res);
    });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const webhook = { headers: req.headers, url: req.url ?? '', body, json, at: Date.now() };
      const index = received.length;
      received.push(webhook);
      for (const wake of waiters.splice(0)) wake();
      const answer = respond(webhook, index);
      if (answer === 'hold') {
        held.add(res);
        return;
      }
      const send = () => {
        res.writeHead(answer.status, { 'Content-Type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    get maxInFlight() {
      return maxInFlight;
    },
    setResponder(next: Responder) {
      respond = next;
    },
    /** Resolves once `count` webhooks (matching `filter`) have arrived. */
    async waitFor(count: number, timeoutMs = 20_000, filter: (w: ReceivedWebhook) => boolean = () => true) {
      const deadline = Date.now() + timeoutMs;
      while (received.filter(filter).length < count) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(
            `receiver got ${received.filter(filter).length} of ${count} webhooks in ${timeoutMs} ms`,
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 250));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return received.filter(filter);
    },
    /** Lets go of held requests (their senders see the connection close). */
    releaseHeld() {
      for (const res of held) res.destroy();
      held.clear();
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
