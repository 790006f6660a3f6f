import { createHash } from 'node:crypto';
import { canonicalJson, normaliseUserId } from '../ledger/ids';
import type { AppContext } from './context';

// Idempotency-Key, end to end: the middleware (http/middleware/idempotency.ts) claims the key per
// caller and stores the first answer, which the same request gets again for 24 hours; under it, the
// writes that move credits give the ledger a key of their own (applied at most once, for ever);
// purchases derive their id from the key (purchases/begin.ts). Both checks of "same request" use
// requestHash below.

/** The one fingerprint of a request: sha256 (hex) over its parts, in order. */
export function requestHash(...parts: ReadonlyArray<string | Uint8Array>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** The request as the Idempotency-Key record compares it: as received (method, path, body bytes). */
export function receivedRequestHash(ctx: AppContext): string {
  return requestHash(`${ctx.method} ${ctx.path}\n`, ctx.state.rawBody ?? Buffer.alloc(0));
}

/**
 * The request as the ledger keeps it with the entry it wrote: the validated body, canonically (field
 * order, and a user id sent as `5` or `"5"`, make no difference).
 */
export function validatedRequestHash(route: string, body: { user_id: string | number }): string {
  return requestHash(canonicalJson({ route, ...body, user_id: normaliseUserId(body.user_id) }));
}

/** The ledger said this key was applied before: the answer is a replay of the first one. */
export function markReplayed(ctx: AppContext, replayed: boolean): void {
  if (replayed) ctx.set('Idempotent-Replayed', 'true');
}
