/** What a plugin tells about itself, kept with each request's telemetry. */
export interface ClientInfo {
  user_agent: string;
  platform: string;
  plugin_version?: string;
}

// `Rakubun-WordPress-Plugin/2.0.1` → platform wordpress, version 2.0.1;
// `Rakubun-Plugin/SketchUp/1.0.0` → platform sketchup, version 1.0.0. X-Platform wins when sent.
export function parseClientInfo(userAgent: string, platformHeader?: string): ClientInfo {
  const first = userAgent.trim().split(/\s+/)[0] ?? '';
  const parts = first.split('/');
  const version = parts.length > 1 ? parts[parts.length - 1] : undefined;
  const product = parts.length > 2 ? parts[parts.length - 2]! : (parts[0] ?? '');
  const guessed = /wordpress/i.test(product) ? 'wordpress' : product.replace(/^Rakubun-?|-?Plugin$/gi, '');
  const header = platformHeader?.trim().toLowerCase();
  return {
    user_agent: userAgent.slice(0, 256),
    platform: (header && /^[a-z0-9._-]{1,32}$/.test(header) ? header : guessed.toLowerCase()) || 'unknown',
    plugin_version: version && /^[0-9A-Za-z.+-]{1,32}$/.test(version) ? version : undefined,
  };
}
