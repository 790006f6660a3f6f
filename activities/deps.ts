import type { Services } from '../src/services';

/** What activities need: the worker's services (src/services.ts), and its shutdown signal. */
export interface ActivityDeps extends Services {
  /** Aborted when the worker begins to shut down: long activities (webhook drains) hand back. */
  stopping?: AbortSignal;
}
