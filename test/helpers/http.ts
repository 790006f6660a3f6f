import { call as pluginCall, registerPlugin } from './plugin-client';

export const adminToken = 'test-admin-token-0123456789abcdef0123456789';

export interface CallOptions {
  /** Call as this plugin instance: it is registered on first use and its real credentials sent. */
  instance?: string;
  admin?: boolean;
  body?: unknown;
  headers?: Record<string, string>;
}

const registered = new Map<string, Promise<{ api_token: string }>>();

function credentialsFor(baseUrl: string, instanceId: string) {
  const key = instanceId; // the database is shared by every test app, so are the credentials
  let credentials = registered.get(key);
  if (!credentials) {
    credentials = registerPlugin(baseUrl, { instance_id: instanceId });
    registered.set(key, credentials);
  }
  return credentials;
}

/** One JSON request as a plugin instance or an operator; answers the status, headers and parsed body. */
export async function call(baseUrl: string, method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.admin) headers.Authorization = `Bearer ${adminToken}`;
  const credentials = options.instance ? await credentialsFor(baseUrl, options.instance) : undefined;
  // An operator acts on instances that exist: register the one a body names, as production would have.
  const named = (options.body as { instance_id?: unknown } | undefined)?.instance_id;
  if (options.admin && typeof named === 'string' && named.length > 0) await credentialsFor(baseUrl, named);
  return pluginCall(baseUrl, method, path, {
    headers,
    body: options.body,
    token: credentials?.api_token ?? null,
    instanceId: options.instance ?? null,
  });
}
