import Stripe from 'stripe';

export interface StripeClientOptions {
  secretKey: string;
  /** Base URL that replaces api.stripe.com, e.g. http://127.0.0.1:12111 (sandbox, stripe-mock). */
  apiUrl?: string;
  /** Per-attempt timeout; Stripe's default of 80 s would hold an activity slot far too long. */
  timeoutMs?: number;
  maxNetworkRetries?: number;
}

/** host/port/protocol for the stripe client from a base URL. Stripe has no path prefix option. */
export function stripeEndpoint(apiUrl: string): { host: string; port: number; protocol: 'http' | 'https' } {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new Error('STRIPE_API_URL is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error('STRIPE_API_URL must use http or https');
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new Error('STRIPE_API_URL must not have a path: the client always calls /v1/...');
  }
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port ? Number(url.port) : protocol === 'https' ? 443 : 80;
  // URL keeps IPv6 literals bracketed; the http client wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port, protocol };
}

export function createStripeClient(options: StripeClientOptions): Stripe {
  return new Stripe(options.secretKey, {
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: options.timeoutMs ?? 20_000,
    appInfo: { name: 'rakubun-credits-backend' },
    ...(options.apiUrl ? stripeEndpoint(options.apiUrl) : {}),
  });
}
