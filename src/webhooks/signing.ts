import { createHmac } from 'node:crypto';

// Two signatures on every webhook: the one the existing WordPress plugin checks (X-Rakubun-Signature)
// and the Standard Webhooks one (webhook-signature), which also covers the id and the timestamp so a
// captured request cannot be replayed later or under another id.

export interface SigningKeys {
  /** The instance's current `whsec_...` secret. */
  secret: string;
  /** The secret replaced by a rotation, while its grace period lasts. */
  previous_secret?: string;
}

/** Hex HMAC-SHA256 of the raw body keyed with the whole secret string, as the plugin computes it. */
export function legacySignature(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

/** The Standard Webhooks key: the bytes after `whsec_`, base64-decoded. */
export function standardWebhooksKey(secret: string): Buffer {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  return Buffer.from(encoded, 'base64');
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', standardWebhooksKey(secret))
    .update(`${id}.${timestamp}.${body}`, 'utf8')
    .digest('base64');
  return `v1,${mac}`;
}

export interface SignedHeaders {
  'X-Rakubun-Signature': string;
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * The signature headers of one attempt. During a rotation's grace period the old secret signs too
 * (space-separated, as Standard Webhooks allows), so a receiver that has not stored the new secret yet
 * still verifies.
 */
export function signWebhook(keys: SigningKeys, id: string, timestamp: number, body: string): SignedHeaders {
  const signatures = [standardSignature(keys.secret, id, timestamp, body)];
  if (keys.previous_secret) signatures.push(standardSignature(keys.previous_secret, id, timestamp, body));
  return {
    'X-Rakubun-Signature': legacySignature(keys.secret, body),
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
  };
}
