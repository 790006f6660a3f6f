import type { AppContext } from './context';
import { unauthorized } from './errors';

/**
 * The instance whose accounts this request may see and change. Plugin authentication sets it; a
 * route reached without it answers 401 rather than guessing an instance.
 */
export function callingInstanceId(ctx: AppContext): string {
  const instanceId = ctx.state.instance?.instance_id;
  if (!instanceId) throw unauthorized();
  return instanceId;
}
