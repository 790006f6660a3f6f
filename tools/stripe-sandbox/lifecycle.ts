import { invalidRequest, noSuchObject } from './api-error';
import type { EventLog } from './events';
import { newId, unixNow } from './ids';
import type {
  ChargeObject,
  CheckoutSessionObject,
  DisputeObject,
  EventObject,
  PaymentIntentObject,
  RefundObject,
} from './objects';
import type { SandboxStore } from './store';

// What happens to payments after they are created: the buyer pays (now or asynchronously, like a
// bank debit), a payment settles or fails, a session expires, a charge is refunded or disputed.
// Each step changes the objects the way Stripe does and records the events Stripe would send,
// in the order this file lists them. Delivery is someone else's job.

export type PayOutcome = 'succeeded' | 'processing';
export type SettleOutcome = 'succeeded' | 'failed';

const declineMessages: Record<string, string> = {
  generic_decline: 'Your card was declined.',
  insufficient_funds: 'Your card has insufficient funds.',
  expired_card: 'Your card has expired.',
};

export class PaymentLifecycle {
  constructor(
    private readonly store: SandboxStore,
    private readonly events: EventLog,
  ) {}

  session(id: string): CheckoutSessionObject {
    const session = this.store.state.sessions[id];
    if (!session) throw noSuchObject('checkout.session', id);
    return session;
  }

  paymentIntent(id: string): PaymentIntentObject {
    const intent = this.store.state.paymentIntents[id];
    if (!intent) throw noSuchObject('payment_intent', id);
    return intent;
  }

  charge(id: string): ChargeObject {
    const charge = this.store.state.charges[id];
    if (!charge) throw noSuchObject('charge', id);
    return charge;
  }

  dispute(id: string): DisputeObject {
    const dispute = this.store.state.disputes[id];
    if (!dispute) throw noSuchObject('dispute', id);
    return dispute;
  }

  /** The buyer completes the hosted page. `processing` is a delayed method: it settles later. */
  paySession(sessionId: string, outcome: PayOutcome, email?: string): EventObject[] {
    const session = this.openSession(sessionId);
    const internals = this.store.state.sessionInternals[sessionId];
    const intent = this.newIntentForSession(session, internals?.paymentIntentMetadata ?? {});
    intent.description = internals?.paymentIntentDescription ?? null;
    const charge = this.newCharge(intent, outcome === 'succeeded' ? 'succeeded' : 'pending');
    intent.status = outcome;
    intent.amount_received = outcome === 'succeeded' ? intent.amount : 0;
    intent.latest_charge = charge.id;

    session.status = 'complete';
    session.payment_status = outcome === 'succeeded' ? 'paid' : 'unpaid';
    session.payment_intent = intent.id;
    session.customer_details = { email: email ?? session.customer_email };
    session.url = null;
    this.store.changed();

    const record = this.events.record.bind(this.events);
    if (outcome === 'succeeded') {
      return [
        record('checkout.session.completed', session),
        record('payment_intent.succeeded', intent),
        record('charge.succeeded', charge),
      ];
    }
    return [
      record('checkout.session.completed', session),
      record('payment_intent.processing', intent),
      record('charge.pending', charge),
    ];
  }

  /**
   * A PaymentIntent's payment goes through or fails: an asynchronous Checkout payment settling,
   * or a PaymentIntent made through the API being confirmed by the (pretend) browser.
   */
  settlePaymentIntent(
    intentId: string,
    outcome: SettleOutcome,
    declineCode = 'generic_decline',
  ): EventObject[] {
    const intent = this.paymentIntent(intentId);
    if (intent.status !== 'processing' && intent.status !== 'requires_payment_method') {
      throw invalidRequest(`PaymentIntent ${intent.id} is ${intent.status}: it cannot be settled again.`);
    }
    const pending = intent.latest_charge ? this.store.state.charges[intent.latest_charge] : undefined;
    const charge = pending?.status === 'pending' ? pending : this.newCharge(intent, 'pending');
    intent.latest_charge = charge.id;
    const sessionId = this.store.state.sessionByPaymentIntent[intent.id];
    const session = sessionId ? this.store.state.sessions[sessionId] : undefined;
    const record = this.events.record.bind(this.events);
    const events: EventObject[] = [];

    if (outcome === 'succeeded') {
      intent.status = 'succeeded';
      intent.amount_received = intent.amount;
      intent.last_payment_error = null;
      charge.status = 'succeeded';
      charge.paid = true;
      charge.captured = true;
      charge.amount_captured = charge.amount;
      if (session) {
        session.payment_status = 'paid';
        events.push(record('checkout.session.async_payment_succeeded', session));
      }
      events.push(record('payment_intent.succeeded', intent), record('charge.succeeded', charge));
    } else {
      const message = declineMessages[declineCode] ?? 'Your card was declined.';
      intent.status = 'requires_payment_method';
      intent.last_payment_error = {
        type: 'card_error',
        code: 'card_declined',
        decline_code: declineCode,
        message,
      };
      charge.status = 'failed';
      charge.failure_code = 'card_declined';
      charge.failure_message = message;
      if (session) events.push(record('checkout.session.async_payment_failed', session));
      events.push(record('payment_intent.payment_failed', intent), record('charge.failed', charge));
    }
    this.store.changed();
    return events;
  }

  expireSession(sessionId: string, idempotencyKey?: string | null): EventObject[] {
    const session = this.session(sessionId);
    if (session.status !== 'open') {
      throw invalidRequest(
        `Only Checkout Sessions with a status in ["open"] can be expired (this one is ${session.status}).`,
      );
    }
    session.status = 'expired';
    session.url = null;
    this.store.changed();
    return [this.events.record('checkout.session.expired', session, { idempotencyKey })];
  }

  /** Cancels an unpaid PaymentIntent, as `POST /v1/payment_intents/:id/cancel` does on Stripe. */
  cancelPaymentIntent(intentId: string, idempotencyKey?: string | null): EventObject[] {
    const intent = this.paymentIntent(intentId);
    if (intent.status === 'succeeded' || intent.status === 'canceled' || intent.status === 'processing') {
      throw invalidRequest(
        `You cannot cancel this PaymentIntent because it has a status of ${intent.status}.`,
      );
    }
    intent.status = 'canceled';
    intent.canceled_at = unixNow();
    this.store.changed();
    return [this.events.record('payment_intent.canceled', intent, { idempotencyKey })];
  }

  /** Sessions past expires_at expire on their own, as on Stripe (within a few seconds here). */
  expireDueSessions(now = unixNow()): EventObject[] {
    return Object.values(this.store.state.sessions)
      .filter((session) => session.status === 'open' && session.expires_at <= now)
      .flatMap((session) => this.expireSession(session.id));
  }

  /** A full refund without an amount; partial refunds add up until the charge is fully refunded. */
  refundCharge(
    chargeId: string,
    amount?: number,
    reason: string | null = null,
  ): { refund: RefundObject; events: EventObject[] } {
    const charge = this.charge(chargeId);
    if (charge.status !== 'succeeded')
      throw invalidRequest(`Charge ${charge.id} has not succeeded: nothing to refund.`);
    const remaining = charge.amount - charge.amount_refunded;
    const refundAmount = amount ?? remaining;
    if (!Number.isInteger(refundAmount) || refundAmount < 1 || refundAmount > remaining) {
      throw invalidRequest(
        `Refund amount (${refundAmount}) must be between 1 and the unrefunded amount (${remaining}).`,
        'amount',
        'amount_too_large',
      );
    }
    const refund: RefundObject = {
      id: newId('re'),
      object: 'refund',
      amount: refundAmount,
      charge: charge.id,
      created: unixNow(),
      currency: charge.currency,
      metadata: {},
      payment_intent: charge.payment_intent,
      reason,
      status: 'succeeded',
    };
    this.store.add('refunds', refund);
    const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
    charge.amount_refunded += refundAmount;
    charge.refunded = charge.amount_refunded === charge.amount;
    this.store.changed();
    return { refund, events: [this.events.record('charge.refunded', charge, { previous })] };
  }

  openDispute(chargeId: string, reason = 'fraudulent'): { dispute: DisputeObject; events: EventObject[] } {
    const charge = this.charge(chargeId);
    if (charge.status !== 'succeeded')
      throw invalidRequest(`Charge ${charge.id} has not succeeded: nothing to dispute.`);
    const open = Object.values(this.store.state.disputes).find(
      (dispute) =>
        dispute.charge === charge.id &&
        (dispute.status === 'needs_response' || dispute.status === 'under_review'),
    );
    if (open) throw invalidRequest(`Charge ${charge.id} already has an open dispute (${open.id}).`);
    const dispute: DisputeObject = {
      id: newId('du'),
      object: 'dispute',
      amount: charge.amount - charge.amount_refunded,
      charge: charge.id,
      created: unixNow(),
      currency: charge.currency,
      is_charge_refundable: false,
      livemode: false,
      metadata: {},
      payment_intent: charge.payment_intent,
      reason,
      status: 'needs_response',
    };
    this.store.add('disputes', dispute);
    charge.disputed = true;
    this.store.changed();
    return { dispute, events: [this.events.record('charge.dispute.created', dispute)] };
  }

  closeDispute(disputeId: string, status: 'won' | 'lost'): EventObject[] {
    const dispute = this.dispute(disputeId);
    if (dispute.status === 'won' || dispute.status === 'lost') {
      throw invalidRequest(`Dispute ${dispute.id} is already closed (${dispute.status}).`);
    }
    const previous = { status: dispute.status };
    dispute.status = status;
    this.store.changed();
    return [this.events.record('charge.dispute.closed', dispute, { previous })];
  }

  private openSession(sessionId: string): CheckoutSessionObject {
    const session = this.session(sessionId);
    if (session.status === 'open' && session.expires_at <= unixNow()) this.expireSession(session.id);
    if (session.status !== 'open') {
      throw invalidRequest(`Checkout Session ${session.id} is ${session.status}: it cannot be paid.`);
    }
    return session;
  }

  private newIntentForSession(
    session: CheckoutSessionObject,
    metadata: Record<string, string>,
  ): PaymentIntentObject {
    const id = newId('pi');
    const intent: PaymentIntentObject = {
      id,
      object: 'payment_intent',
      amount: session.amount_total,
      amount_capturable: 0,
      amount_received: 0,
      automatic_payment_methods: null,
      canceled_at: null,
      capture_method: 'automatic',
      client_secret: `${id}_secret_${newId('x').slice(2)}`,
      confirmation_method: 'automatic',
      created: unixNow(),
      currency: session.currency,
      description: null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: { ...metadata },
      payment_method_types: ['card'],
      receipt_email: session.customer_email,
      status: 'requires_payment_method',
    };
    this.store.add('paymentIntents', intent);
    this.store.state.sessionByPaymentIntent[id] = session.id;
    return intent;
  }

  private newCharge(intent: PaymentIntentObject, status: ChargeObject['status']): ChargeObject {
    const succeeded = status === 'succeeded';
    const charge: ChargeObject = {
      id: newId('ch'),
      object: 'charge',
      amount: intent.amount,
      amount_captured: succeeded ? intent.amount : 0,
      amount_refunded: 0,
      captured: succeeded,
      created: unixNow(),
      currency: intent.currency,
      description: intent.description,
      disputed: false,
      failure_code: null,
      failure_message: null,
      livemode: false,
      // Charges made by a PaymentIntent carry its metadata, so refund and dispute events route too.
      metadata: { ...intent.metadata },
      paid: succeeded,
      payment_intent: intent.id,
      receipt_email: intent.receipt_email,
      refunded: false,
      status,
    };
    this.store.add('charges', charge);
    return charge;
  }
}
