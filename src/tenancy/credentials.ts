import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// Credentials carry 256 bits from the CSPRNG. Tokens are stored only as SHA-256 hashes: with that much
// entropy a fast hash is enough (nothing to brute-force), and lookups stay cheap.

const tokenBytes = 32;

export function newApiToken(): string {
  return `rk_${randomBytes(tokenBytes).toString('base64url')}`;
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(tokenBytes).toString('base64')}`;
}

/** A scoped API key: `rkk_<key id>_<secret>`, so the key's record is found without scanning. */
export function newScopedKey(): { keyId: string; key: string } {
  const keyId = randomBytes(9).toString('base64url');
  return { keyId, key: `rkk_${keyId}_${randomBytes(tokenBytes).toString('base64url')}` };
}

export function parseScopedKey(value: string): { keyId: string } | undefined {
  const match = /^rkk_([A-Za-z0-9_-]{12})_[A-Za-z0-9_-]{43}$/.exec(value);
  return match ? { keyId: match[1]! } : undefined;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented token with a stored hash. */
export function tokenMatches(token: string, storedHash: string | undefined | null): boolean {
  if (!storedHash) return false;
  const presented = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** What a listing shows of a key: enough to recognise it, never enough to use it. */
export function maskKey(keyId: string): string {
  return `rkk_${keyId}_${'*'.repeat(8)}`;
}
