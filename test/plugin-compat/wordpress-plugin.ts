import type { Credentials } from '../helpers/plugin-client';

// The HTTP calls of the Rakubun WordPress plugin, built as its PHP builds them, so the compatibility
// tests send what the real plugin sends. `make_request()` (includes/class-rakubun-ai-external-api.php)
// sends JSON with the plugin's own User-Agent and puts GET data in the query string (add_query_arg);
// the checkout handler (admin/class-rakubun-ai-admin.php) uses `wp_remote_post` without a User-Agent,
// so WordPress's default one arrives.

export const pluginVersion = '2.1.0';
export const wordpressDefaultUserAgent = (siteUrl: string) => `WordPress/6.4.2; ${siteUrl}`;

export interface PhpResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the plugin reads these bodies field by field too
  body: any;
}

/** `json_decode($body, true) ?: array('success' => false)`, as make_request() does. */
async function decode(response: Response): Promise<PhpResponse> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body: body || { success: false } };
}

/** `!empty($response['success'])`: PHP's truthiness, which is what every plugin branch checks. */
export const phpSuccess = (body: { success?: unknown }) =>
  body.success !== undefined && body.success !== false && body.success !== 0 && body.success !== '';

/** `add_query_arg` for flat data: keys and values URL-encoded, integers as their digits. */
function queryString(data: Record<string, string | number>): string {
  return Object.entries(data)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
}

export function wordpressPlugin(baseUrl: string, credentials: Credentials, siteUrl = 'https://example.com') {
  const api = `${baseUrl}/api/v1`;
  const headers = {
    Authorization: `Bearer ${credentials.api_token}`,
    'Content-Type': 'application/json',
    'X-Instance-ID': credentials.instance_id,
    'User-Agent': `Rakubun-WordPress-Plugin/${pluginVersion}`,
  };
  return {
    siteUrl,
    instanceId: credentials.instance_id,
    /** make_request($method, $endpoint, $data) with authentication. */
    async makeRequest(method: 'GET' | 'POST' | 'PUT', endpoint: string, data: Record<string, unknown> = {}) {
      const hasData = Object.keys(data).length > 0;
      const url =
        method === 'GET' && hasData
          ? `${api}${endpoint}?${queryString(data as Record<string, string | number>)}`
          : `${api}${endpoint}`;
      const response = await fetch(url, {
        method,
        headers,
        ...(method === 'GET' ? {} : { body: JSON.stringify(data) }),
      });
      return decode(response);
    },
    /** wp_remote_post($url, ['headers' => [Authorization, Content-Type, X-Instance-ID], 'body' => ...]). */
    async wpRemotePost(endpoint: string, data: Record<string, unknown>) {
      const response = await fetch(`${api}${endpoint}`, {
        method: 'POST',
        headers: {
          Authorization: headers.Authorization,
          'Content-Type': 'application/json',
          'X-Instance-ID': headers['X-Instance-ID'],
          'User-Agent': wordpressDefaultUserAgent(siteUrl),
        },
        body: JSON.stringify(data),
      });
      return decode(response);
    },
  };
}

export type WordpressPlugin = ReturnType<typeof wordpressPlugin>;
