import { promises as dns, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { forbiddenAddressReason, ipLiteral } from './ip-policy';

// The only way webhooks leave the process. Every attempt resolves the host itself, checks every address
// it got, and connects to the checked one through a `lookup` that returns it: the socket never asks DNS
// again, so a name that answers "public" to the check and "private" to the connect (DNS rebinding)
// still reaches the public address. Redirects are never followed (a 3xx is a failed attempt).

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export interface SafePostRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  allowPrivateNetworks: boolean;
  timeoutMs?: number;
  /** How much of the response body is kept for the attempt log. */
  maxResponseBytes?: number;
  resolve?: Resolver;
  signal?: AbortSignal;
}

export type SafePostResult =
  | {
      kind: 'response';
      status: number;
      body: string;
      retryAfter?: string;
      address: string;
      latencyMs: number;
    }
  | { kind: 'refused'; reason: string; latencyMs: number }
  | { kind: 'failed'; error: string; timedOut: boolean; address?: string; latencyMs: number };

// Keep-alive pools: a pooled socket is connected to an address that was checked when it was opened.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` that answers with the checked address only. */
function pinnedLookup(target: LookupAddress) {
  return (_hostname: string, options: { all?: boolean } | undefined, callback: LookupCallback) => {
    if (options?.all) callback(null, [target]);
    else callback(null, target.address, target.family);
  };
}

async function checkedAddress(
  hostname: string,
  allowPrivate: boolean,
  resolve: Resolver,
): Promise<{ address: LookupAddress } | { refused: string }> {
  const literal = ipLiteral(hostname);
  const addresses: LookupAddress[] = literal
    ? [{ address: literal, family: literal.includes(':') ? 6 : 4 }]
    : await resolve(hostname);
  if (addresses.length === 0) throw new Error(`no address for ${hostname}`);
  if (!allowPrivate) {
    // Every answer must be public: a mixed answer is how rebinding attacks hedge their bets.
    for (const candidate of addresses) {
      const reason = forbiddenAddressReason(candidate.address);
      if (reason) return { refused: `${hostname} resolves to a ${reason} (${candidate.address})` };
    }
  }
  return { address: addresses[0]! };
}

export async function safePost(request: SafePostRequest): Promise<SafePostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(request.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { kind: 'refused', reason: `scheme ${url.protocol} is not allowed`, latencyMs: elapsed() };
  }
  let pinned: LookupAddress;
  try {
    const checked = await checkedAddress(
      url.hostname,
      request.allowPrivateNetworks,
      request.resolve ?? systemResolver,
    );
    if ('refused' in checked) return { kind: 'refused', reason: checked.refused, latencyMs: elapsed() };
    pinned = checked.address;
  } catch (error) {
    return {
      kind: 'failed',
      error: `DNS: ${(error as Error).message}`,
      timedOut: false,
      latencyMs: elapsed(),
    };
  }
  const first = await send(request, url, pinned, started);
  // A pooled connection the receiver had just closed: the request never reached it, send once more.
  if (first.kind === 'failed' && first.staleSocket) return send(request, url, pinned, started);
  return first;
}

type SendResult = SafePostResult & { staleSocket?: boolean };

function send(
  request: SafePostRequest,
  url: URL,
  pinned: LookupAddress,
  started: number,
): Promise<SendResult> {
  const timeoutMs = request.timeoutMs ?? 30_000;
  const maxBytes = request.maxResponseBytes ?? 2048;
  const elapsed = () => Math.round(performance.now() - started);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    let timedOut = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = client.request({
      protocol: url.protocol,
      hostname: ipLiteral(url.hostname) ?? url.hostname,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: { ...request.headers, 'Content-Length': String(Buffer.byteLength(request.body)) },
      agent: agents[url.protocol as 'http:' | 'https:'],
      lookup: pinnedLookup(pinned) as never,
      signal: request.signal,
    });
    // One deadline for connect, send and the whole answer: a receiver that trickles bytes still ends.
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      const staleSocket = req.reusedSocket && error.code === 'ECONNRESET' && !timedOut;
      finish({
        kind: 'failed',
        error: error.message,
        timedOut,
        address: pinned.address,
        latencyMs: elapsed(),
        ...(staleSocket ? { staleSocket } : {}),
      });
    });
    req.on('response', (res) => {
      const kept: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < maxBytes) kept.push(chunk.subarray(0, maxBytes - size));
        size += chunk.length;
        // Nobody reads megabytes of an answer to a webhook: stop, and let the socket go.
        if (size > 64 * 1024) res.destroy();
      });
      const done = () =>
        finish({
          kind: 'response',
          status: res.statusCode ?? 0,
          body: Buffer.concat(kept).toString('utf8'),
          retryAfter: headerValue(res.headers['retry-after']),
          address: pinned.address,
          latencyMs: elapsed(),
        });
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    req.end(request.body);
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
