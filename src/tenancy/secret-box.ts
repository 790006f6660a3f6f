import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Webhook secrets must be readable again (we sign with them), so unlike tokens they are encrypted,
// not hashed: AES-256-GCM under WEBHOOK_SECRET_ENCRYPTION_KEY. Without a key they are stored as
// they are, and the API logs a warning at start-up (see README).

export type StoredSecret =
  | { alg: 'aes-256-gcm'; iv: string; tag: string; data: string }
  | { alg: 'none'; data: string };

export interface SecretBox {
  seal(plaintext: string): StoredSecret;
  open(stored: StoredSecret): string;
  readonly encrypting: boolean;
}

export function createSecretBox(hexKey: string | undefined): SecretBox {
  const key = hexKey ? Buffer.from(hexKey, 'hex') : undefined;
  return {
    encrypting: key !== undefined,
    seal(plaintext) {
      if (!key) return { alg: 'none', data: plaintext };
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return {
        alg: 'aes-256-gcm',
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        data: data.toString('base64'),
      };
    },
    open(stored) {
      if (stored.alg === 'none') return stored.data;
      if (!key) throw new Error('webhook secret is encrypted but WEBHOOK_SECRET_ENCRYPTION_KEY is not set');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(stored.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(stored.data, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    },
  };
}
