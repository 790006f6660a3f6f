import type { IncomingMessage } from 'node:http';
import { SandboxApiError } from './api-error';

// Stripe authenticates with the secret key as a Bearer token (or as the Basic user name, as curl
// -u sends it). The sandbox accepts any well-formed test key, or only `expectedKey` when one is set.
// Messages never repeat the key.

function presentedKey(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const [scheme, value] = header.split(/\s+/, 2);
  if (!value) return null;
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') {
    return Buffer.from(value, 'base64').toString('utf8').split(':')[0] ?? null;
  }
  return null;
}

export function authenticate(req: IncomingMessage, expectedKey?: string): string {
  const key = presentedKey(req);
  if (!key) {
    throw new SandboxApiError(
      401,
      'invalid_request_error',
      'You did not provide an API key. Provide it in the Authorization header as a Bearer token.',
    );
  }
  const valid = expectedKey ? key === expectedKey : /^sk_test_[A-Za-z0-9_]{1,247}$/.test(key);
  if (!valid) {
    const hint = key.startsWith('sk_live_') ? ' The sandbox accepts only test mode keys (sk_test_...).' : '';
    throw new SandboxApiError(
      401,
      'invalid_request_error',
      `Invalid API Key provided.${hint}`,
      'api_key_invalid',
    );
  }
  return key;
}
