import { invalidRequest } from './api-error';
import type { ChargeObject, EventObject, ListObject, RefundObject, SandboxObject } from './objects';
import type { SandboxStore } from './store';

// What the API returns for a stored object: a copy (callers must not mutate state through it),
// with derived parts filled in, and `expand[]` paths replaced by the objects they name.

const expandable: Record<string, string[]> = {
  'checkout.session': ['payment_intent'],
  payment_intent: ['latest_charge'],
  charge: ['payment_intent'],
  refund: ['charge', 'payment_intent'],
  dispute: ['charge', 'payment_intent'],
};

export function render(store: SandboxStore, object: SandboxObject | EventObject): Record<string, unknown> {
  const copy = structuredClone(object) as unknown as Record<string, unknown>;
  if (object.object === 'charge') copy.refunds = refundList(store, object);
  return copy;
}

function refundList(
  store: SandboxStore,
  charge: ChargeObject,
): ListObject<RefundObject> & { total_count: number } {
  const data = store.newestFirst(store.state.refunds).filter((refund) => refund.charge === charge.id);
  return {
    object: 'list',
    data: structuredClone(data),
    has_more: false,
    total_count: data.length,
    url: `/v1/charges/${charge.id}/refunds`,
  };
}

/** Applies expand paths like `payment_intent` or `payment_intent.latest_charge` to one object. */
export function expand(
  store: SandboxStore,
  view: Record<string, unknown>,
  paths: string[],
): Record<string, unknown> {
  for (const path of paths) expandPath(store, view, path.split('.'), path);
  return view;
}

function expandPath(
  store: SandboxStore,
  view: Record<string, unknown>,
  parts: string[],
  fullPath: string,
): void {
  const [field, ...rest] = parts;
  if (!field) return;
  const allowed = expandable[String(view.object)] ?? [];
  if (!allowed.includes(field))
    throw invalidRequest(`This property cannot be expanded (${fullPath}).`, 'expand');
  const value = view[field];
  if (typeof value === 'string') {
    const target = store.find(value);
    if (target) view[field] = render(store, target);
  }
  const child = view[field];
  if (rest.length > 0 && child && typeof child === 'object') {
    expandPath(store, child as Record<string, unknown>, rest, fullPath);
  }
}
