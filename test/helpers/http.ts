import { testInstanceHeader } from './env';

export const adminToken = 'test-admin-token-0123456789abcdef0123456789';

export interface CallOptions {
  instance?: string;
  admin?: boolean;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One JSON request; answers the status, headers and parsed body. */
export async function call(baseUrl: string, method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.instance) headers[testInstanceHeader] = options.instance;
  if (options.admin) headers.Authorization = `Bearer ${adminToken}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are checked field by field
  const body = (await response.json()) as any;
  return { status: response.status, headers: response.headers, body };
}
