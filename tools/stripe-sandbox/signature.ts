import { createHmac } from 'node:crypto';

/**
 * The `Stripe-Signature` header Stripe sends: `t=<unix seconds>,v1=<hex HMAC-SHA256>` over
 * `"<t>.<payload>"`, keyed with the endpoint's whole `whsec_...` secret as text.
 * Exported for tests elsewhere that need to post signed events.
 */
export function stripeSignatureHeader(payload: string, secret: string, timestamp?: number): string {
  const t = timestamp ?? Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${payload}`, 'utf8').digest('hex');
  return `t=${t},v1=${v1}`;
}
