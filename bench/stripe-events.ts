import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';

export interface OpenSession {
  purchase_id: string;
  session_id: string;
}

/**
 * Signed `checkout.session.completed` events with payment_status `unpaid`, cycling over open
 * sessions: the ingest path does all its work (verify, signal) but no purchase is paid, so the
 * same few sessions can take any number of events.
 */
export function unpaidCompletedEvents(sessions: OpenSession[], webhookSecret: string) {
  const signer = new Stripe('sk_test_signing_only').webhooks;
  let seq = 0;
  return () => {
    const session = sessions[seq % sessions.length]!;
    seq += 1;
    const payload = JSON.stringify({
      id: `evt_bench_${seq}_${randomUUID().replaceAll('-', '')}`,
      object: 'event',
      type: 'checkout.session.completed',
      api_version: '2025-01-27.acacia',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      data: {
        object: {
          id: session.session_id,
          object: 'checkout.session',
          metadata: { purchase_id: session.purchase_id },
          payment_intent: null,
          payment_status: 'unpaid',
        },
      },
    });
    return {
      method: 'POST' as const,
      path: '/api/v1/stripe/webhook',
      headers: {
        'Content-Type': 'application/json',
        'Stripe-Signature': signer.generateTestHeaderString({ payload, secret: webhookSecret }),
      },
      body: payload,
    };
  };
}
