import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

// A receiver's verification written from the contract and the Standard Webhooks spec alone (it does
// not import src/webhooks/signing.ts), so the tests prove the two sides agree.

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** What the existing WordPress plugin does: hash_hmac('sha256', $raw_body, $webhook_secret). */
export function verifyRakubunSignature(secret: string, rawBody: string, header: string | undefined): boolean {
  if (!header) return false;
  return sameText(createHmac('sha256', secret).update(rawBody).digest('hex'), header);
}

/**
 * Standard Webhooks: key = base64-decode(secret without "whsec_"), signed content = "<id>.<ts>.<body>",
 * header = space-separated "v1,<base64>" entries; any one may match. Timestamps older or newer than
 * `toleranceSeconds` are refused (replay protection).
 */
export function verifyStandardWebhook(
  secret: string,
  rawBody: string,
  headers: IncomingHttpHeaders | object,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): boolean {
  const named = headers as Record<string, unknown>;
  const id = named['webhook-id'];
  const timestamp = named['webhook-timestamp'];
  const signatures = named['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const key = Buffer.from(secret.split('_').slice(1).join('_'), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`).digest('base64');
  return signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2);
    return version === 'v1' && signature !== undefined && sameText(signature, expected);
  });
}
