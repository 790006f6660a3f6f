import { creditFields } from '../ledger/credit-fields';
import type { WorkflowStarter } from '../temporal/starter';
import type { PurchaseView } from './model';
import type { PurchaseDoc } from './store';
import { queryPurchase, signalPurchase } from './workflow-client';

// `checkout/verify` and `payments/confirm`: the buyer is back and says it paid. Neither grants
// anything: they ask the purchase's workflow to read Stripe now and wait briefly for what it finds.

export type VerifyOutcome =
  | { kind: 'fulfilled'; answer: FulfilledAnswer }
  | { kind: 'not_paid'; payment_status: string; purchase_id: string }
  | { kind: 'processing'; purchase_id: string; reason: 'fulfilling' | 'checking' };

export interface FulfilledAnswer {
  status: 'fulfilled';
  purchase_id: string;
  credit_type: string;
  credits_added: number;
  remaining_credits: Record<string, number>;
  transaction_id: string | null;
  fulfilled_at: string;
}

export interface VerifyDeps {
  workflows: WorkflowStarter;
  /** How long to wait for the workflow's answer before saying "processing". */
  waitMs: number;
  pollMs?: number;
}

/** The same answer every time for a fulfilled purchase: it is built from the grant as it was made. */
function fulfilled(view: PurchaseView): VerifyOutcome | undefined {
  if (!view.fulfilled_at) return undefined;
  return {
    kind: 'fulfilled',
    answer: {
      status: 'fulfilled',
      purchase_id: view.purchase_id,
      credit_type: view.credit_type,
      credits_added: view.credits_added ?? view.credits,
      remaining_credits: creditFields(view.granted?.balances ?? view.balances ?? {}),
      transaction_id: view.granted?.transaction_id ?? null,
      fulfilled_at: view.fulfilled_at,
    },
  };
}

const finalUnpaid = new Set(['failed', 'expired']);

function decide(view: PurchaseView, checkId: string): VerifyOutcome | undefined {
  const done = fulfilled(view);
  if (done) return done;
  if (finalUnpaid.has(view.status)) {
    return { kind: 'not_paid', payment_status: view.status, purchase_id: view.purchase_id };
  }
  // Stripe said "not paid" to this very recheck: the buyer has not paid (yet).
  if (view.status === 'pending' && view.last_check?.event_id === checkId) {
    return { kind: 'not_paid', payment_status: 'unpaid', purchase_id: view.purchase_id };
  }
  return undefined;
}

export async function verifyPurchase(
  deps: VerifyDeps,
  doc: PurchaseDoc,
  checkId: string,
): Promise<VerifyOutcome> {
  // A fulfilled purchase answers from its record: no signal, no wait, and no need for a worker.
  const recorded = doc.outcome && fulfilled(doc.outcome);
  if (recorded) return recorded;

  await signalPurchase(deps.workflows, doc.purchase_id, {
    event_id: checkId,
    type: 'recheck',
    checkout_session_id: doc.stripe_checkout_session_id ?? null,
    payment_intent_id: doc.stripe_payment_intent_id ?? null,
  });
  const deadline = Date.now() + deps.waitMs;
  let last: PurchaseView | undefined;
  for (;;) {
    last = (await queryPurchase(deps.workflows, doc.purchase_id)) ?? last;
    const outcome = last && decide(last, checkId);
    if (outcome) return outcome;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, deps.pollMs ?? 200));
  }
  return {
    kind: 'processing',
    purchase_id: doc.purchase_id,
    reason: last?.status === 'paid' ? 'fulfilling' : 'checking',
  };
}
