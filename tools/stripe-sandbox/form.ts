// Stripe's wire format: application/x-www-form-urlencoded with bracket notation, e.g.
// `line_items[0][price_data][currency]=jpy`, `expand[]=payment_intent`, `metadata[purchase_id]=p1`.
// The same encoding is used in query strings of GET requests.

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype']);

function decode(part: string): string {
  return decodeURIComponent(part.replace(/\+/g, ' '));
}

/** `a[b][0][]` → ['a', 'b', '0', '']; a key without brackets is one segment. */
function keySegments(key: string): string[] | null {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) return null;
  const rest = [...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] ?? '');
  return [match[1] ?? '', ...rest];
}

export class FormSyntaxError extends Error {}

export function parseStripeForm(encoded: string): FormObject {
  const root: FormObject = {};
  for (const pair of encoded.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const segments = keySegments(decode(rawKey));
    if (!segments || segments.some((segment) => forbiddenKeys.has(segment))) {
      throw new FormSyntaxError(`Invalid parameter name: ${decode(rawKey)}`);
    }
    let node: FormObject = root;
    segments.forEach((segment, index) => {
      // `[]` appends: give it the next free index of its container.
      const key = segment === '' ? String(Object.keys(node).length) : segment;
      if (index === segments.length - 1) {
        node[key] = value;
        return;
      }
      const child = node[key];
      if (child === undefined || typeof child === 'string') node[key] = {};
      node = node[key] as FormObject;
    });
  }
  return arraysFromIndexedObjects(root, false) as FormObject;
}

// Objects whose keys are all 0..n-1 become arrays, except under `metadata`, where keys are free text.
function arraysFromIndexedObjects(value: FormValue, isMetadata: boolean): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const entries = Object.entries(value).map(
    ([key, child]) => [key, arraysFromIndexedObjects(child, key === 'metadata')] as const,
  );
  const keys = entries.map(([key]) => key);
  const indexed = keys.length > 0 && keys.every((key) => /^\d+$/.test(key));
  if (indexed && !isMetadata) {
    return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, child]) => child);
  }
  return Object.fromEntries(entries);
}
