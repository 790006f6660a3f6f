import type { AppContext } from './context';

/** The ledger said this key was applied before: the answer is a replay of the first one. */
export function markReplayed(ctx: AppContext, replayed: boolean): void {
  if (replayed) ctx.set('Idempotent-Replayed', 'true');
}
