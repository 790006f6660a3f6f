import { randomUUID } from 'node:crypto';
import { stripeSignatureHeader } from '../tools/stripe-sandbox/signature';

/** The headers Stripe posts an event with, signed with the endpoint's secret. */
export function stripeEventHeaders(payload: string, webhookSecret: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'Stripe-Signature': stripeSignatureHeader(payload, webhookSecret),
  };
}

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
      headers: stripeEventHeaders(payload, webhookSecret),
      body: payload,
    };
  };
}
