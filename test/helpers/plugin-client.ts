import { randomUUID } from 'node:crypto';

// A tiny HTTP client that behaves like the WordPress plugin, for tests.

export const pluginUserAgent = 'Rakubun-WordPress-Plugin/2.0.1';

/** Every credential the tests were given, so the at-rest check can look for each of them. */
export const issuedSecrets: string[] = [];

export interface Credentials {
  instance_id: string;
  api_token: string;
  webhook_secret: string;
}

export interface CallOptions {
  token?: string | null;
  instanceId?: string | null;
  userAgent?: string | null;
  headers?: Record<string, string>;
  /** A raw string is sent as it is (broken JSON tests); anything else is JSON-encoded. */
  body?: unknown;
}

export interface CallResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are checked field by field
  body: any;
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.instanceId) headers['X-Instance-ID'] = options.instanceId;
  if (options.userAgent !== null) headers['User-Agent'] = options.userAgent ?? pluginUserAgent;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // leave as text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Calls a plugin route as the given instance. */
export function asPlugin(baseUrl: string, credentials: Credentials) {
  return (method: string, path: string, options: CallOptions = {}) =>
    call(baseUrl, method, path, {
      token: credentials.api_token,
      instanceId: credentials.instance_id,
      ...options,
    });
}

export async function registerPlugin(
  baseUrl: string,
  overrides: Record<string, unknown> = {},
): Promise<Credentials> {
  const instanceId = `site-${randomUUID()}`;
  const result = await call(baseUrl, 'POST', '/api/v1/plugins/register', {
    body: {
      instance_id: instanceId,
      site_url: 'https://example.com',
      admin_email: 'admin@example.com',
      wordpress_version: '6.5',
      plugin_version: '2.0.1',
      ...overrides,
    },
  });
  // Every plugin-facing success is 200, registration included (api-contract.md).
  if (result.status !== 200 || result.body?.success !== true)
    throw new Error(`registration failed: ${result.status} ${JSON.stringify(result.body)}`);
  issuedSecrets.push(result.body.api_token, result.body.webhook_secret);
  return result.body as Credentials;
}
