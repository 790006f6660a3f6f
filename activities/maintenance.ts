import type { Db } from 'mongodb';
import type { Config } from '../src/config';
import { grantExpiryScheduler } from '../src/ledger/expiry-scheduler';
import type { Ledger } from '../src/ledger/ledger';
import type { WorkflowStarter } from '../src/temporal/starter';
import { webhookDeliveries } from '../src/webhooks/deliveries';
import { startStrandedBroadcasts } from '../src/webhooks/notify';
import { endpointKey, entriesQueuedBefore } from '../src/webhooks/queue';
import { requeueDelivery } from '../src/webhooks/replay';
import { wakeEndpoint } from '../src/webhooks/wake';

// Work whose workflow start or signal can be lost when a process dies (or Temporal is down) between a
// write and the start that follows it. Each repair is idempotent, so a sweep may repeat them.

export interface MaintenanceDeps {
  db: Db;
  workflows: WorkflowStarter;
  config: Config;
  ledger: Ledger;
}

export function createMaintenanceActivities(deps: MaintenanceDeps) {
  const publisher = { db: deps.db, workflows: deps.workflows, config: deps.config };
  return {
    /**
     * Webhooks whose drain never came: queue entries long overdue (a wake lost with a crashed
     * publisher or a Temporal outage) get their endpoint signalled again, and deliveries recorded as
     * pending without a queue entry (a crash between the two writes) are queued.
     */
    async restartStrandedDeliveries(input: { older_than_ms: number }): Promise<number> {
      const before = new Date(Date.now() - input.older_than_ms);
      const wake = { db: deps.db, workflows: deps.workflows };
      const overdue = new Map(
        (await entriesQueuedBefore(deps.db, before, 5_000)).map((e) => [endpointKey(e), e]),
      );
      for (const entry of overdue.values()) await wakeEndpoint(wake, entry, true);
      const stranded = await webhookDeliveries(deps.db)
        .find({ status: 'pending', updated_at: { $lt: before } })
        .limit(1_000)
        .toArray();
      let restarted = overdue.size;
      for (const delivery of stranded) {
        if ((await requeueDelivery(publisher, delivery)) === 'started') restarted += 1;
      }
      // Operator broadcasts stored while Temporal was unreachable (webhooks/notify.ts).
      return restarted + (await startStrandedBroadcasts(publisher, before));
    },

    /** Expiring grants written recently: makes sure each has its timer workflow. */
    async ensureGrantExpiryTimers(input: { written_within_ms: number }): Promise<number> {
      const since = new Date(Date.now() - input.written_within_ms);
      const grants = await deps.ledger.expiringGrantsSince(since, 10_000);
      const schedule = grantExpiryScheduler(deps.workflows);
      for (const grant of grants) await schedule(grant);
      return grants.length;
    },
  };
}

export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;
