import { formatMinorUnits } from '../../src/stripe/currency';
import { SandboxApiError } from './api-error';
import { type Route, redirect, sendHtml } from './http';
import type { PaymentLifecycle, SettleOutcome } from './lifecycle';
import type { CheckoutSessionObject, SessionLineItem } from './objects';
import type { SandboxStore } from './store';
import type { WebhookSender } from './webhooks';

// The hosted payment page a Checkout Session's `url` points to: a person (or a test) picks how the
// payment should go, the sandbox does what Stripe would, sends the events, then redirects back.

export interface CheckoutPageDeps {
  store: SandboxStore;
  lifecycle: PaymentLifecycle;
  sender: WebhookSender;
  settleLater: (intentId: string, outcome: SettleOutcome, delayMs: number) => void;
  /** How long an "async" payment stays processing before it settles. */
  asyncSettleMs: number;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** Stripe fills in `{CHECKOUT_SESSION_ID}` in the return URLs. */
const returnUrl = (template: string, sessionId: string) =>
  template.split('{CHECKOUT_SESSION_ID}').join(sessionId);

function page(session: CheckoutSessionObject, items: SessionLineItem[], notice?: string): string {
  const rows = items
    .map(
      (item) =>
        `<tr><td>${escapeHtml(item.name)}</td><td>× ${item.quantity}</td><td>${formatMinorUnits(item.unitAmount * item.quantity, item.currency)}</td></tr>`,
    )
    .join('');
  const open = session.status === 'open';
  const button = (action: string, label: string) =>
    `<button type="submit" name="action" value="${action}">${escapeHtml(label)}</button>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox checkout ${escapeHtml(session.id)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}
table{width:100%;border-collapse:collapse}td{padding:.4rem 0;border-bottom:1px solid #ddd}
button{display:block;width:100%;margin:.5rem 0;padding:.7rem;font-size:1rem;cursor:pointer}
.note{background:#fff4d6;padding:.6rem}.muted{color:#666;font-size:.85rem}</style></head>
<body>
<p class="muted">Local Stripe sandbox: no real money moves.</p>
<h1>Pay ${formatMinorUnits(session.amount_total, session.currency)}</h1>
${notice ? `<p class="note">${escapeHtml(notice)}</p>` : ''}
<table>${rows}</table>
<p>Email: ${escapeHtml(session.customer_email ?? '(none)')}<br>
Session: <code>${escapeHtml(session.id)}</code> · status <strong id="status">${session.status}</strong>,
payment <strong id="payment-status">${session.payment_status}</strong></p>
${
  open
    ? `<form method="post">
${button('pay', 'Pay')}
${button('pay_async_success', 'Pay (async, later succeeds)')}
${button('pay_async_fail', 'Pay (async, later fails)')}
${button('cancel', 'Cancel')}
</form>`
    : '<p>This session can no longer be paid.</p>'
}
</body></html>`;
}

export function checkoutPageRoutes(deps: CheckoutPageDeps): Route[] {
  const { store, lifecycle, sender } = deps;

  const render = (sessionId: string, status: number, notice?: string) => ({
    status,
    html: page(
      lifecycle.session(sessionId),
      store.state.sessionInternals[sessionId]?.lineItems ?? [],
      notice,
    ),
  });

  return [
    {
      method: 'GET',
      pattern: /^\/checkout\/([A-Za-z0-9_]+)$/,
      handler: (ctx) => {
        const view = render(ctx.params[0] ?? '', 200);
        sendHtml(ctx.res, view.status, view.html);
      },
    },
    {
      method: 'POST',
      pattern: /^\/checkout\/([A-Za-z0-9_]+)$/,
      handler: async (ctx) => {
        const sessionId = ctx.params[0] ?? '';
        const session = lifecycle.session(sessionId);
        const action = new URLSearchParams(ctx.body).get('action');
        if (action === 'cancel') {
          // As on Stripe, leaving the page does not expire the session: it can still be paid.
          redirect(ctx.res, returnUrl(session.cancel_url ?? session.success_url ?? '/', sessionId));
          return;
        }
        if (action !== 'pay' && action !== 'pay_async_success' && action !== 'pay_async_fail') {
          const view = render(sessionId, 400, 'Unknown action.');
          sendHtml(ctx.res, view.status, view.html);
          return;
        }
        try {
          const events = lifecycle.paySession(sessionId, action === 'pay' ? 'succeeded' : 'processing');
          if (action !== 'pay') {
            const outcome = action === 'pay_async_success' ? 'succeeded' : 'failed';
            deps.settleLater(session.payment_intent!, outcome, deps.asyncSettleMs);
          }
          await sender.dispatch(events);
        } catch (error) {
          if (!(error instanceof SandboxApiError)) throw error;
          const view = render(sessionId, 409, error.message);
          sendHtml(ctx.res, view.status, view.html);
          return;
        }
        redirect(ctx.res, returnUrl(session.success_url ?? '/', sessionId));
      },
    },
  ];
}
