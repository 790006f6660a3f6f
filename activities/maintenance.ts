import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import type { Config } from '../src/config';
import { grantExpiryScheduler } from '../src/ledger/expiry-scheduler';
import type { LedgerEntry } from '../src/ledger/types';
import { collectionNames } from '../src/mongo/collections';
import { webhookDeliveries } from '../src/webhooks/deliveries';
import { endpointKey, entriesQueuedBefore } from '../src/webhooks/queue';
import { requeueDelivery } from '../src/webhooks/replay';
import { wakeEndpoint } from '../src/webhooks/wake';

// Work whose workflow start or signal can be lost when a process dies (or Temporal is down) between a
// write and the start that follows it. Each repair is idempotent, so a sweep may repeat them.

export interface MaintenanceDeps {
  db: Db;
  temporal: Client;
  config: Config;
}

export function createMaintenanceActivities(deps: MaintenanceDeps) {
  const publisher = { db: deps.db, client: deps.temporal, config: deps.config };
  return {
    /**
     * Webhooks whose drain never came: queue entries long overdue (a wake lost with a crashed
     * publisher or a Temporal outage) get their endpoint signalled again, and deliveries recorded as
     * pending without a queue entry (a crash between the two writes) are queued.
     */
    async restartStrandedDeliveries(input: { older_than_ms: number }): Promise<number> {
      const before = new Date(Date.now() - input.older_than_ms);
      const wake = { db: deps.db, client: deps.temporal, taskQueue: deps.config.TEMPORAL_TASK_QUEUE };
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
      return restarted;
    },

    /** Expiring grants written recently: makes sure each has its timer workflow. */
    async ensureGrantExpiryTimers(input: { written_within_ms: number }): Promise<number> {
      const since = new Date(Date.now() - input.written_within_ms);
      const grants = await deps.db
        .collection<LedgerEntry>(collectionNames.ledgerEntries)
        .find({ expires_at: { $exists: true }, delta: { $gt: 0 }, created_at: { $gte: since } })
        .limit(10_000)
        .toArray();
      const schedule = grantExpiryScheduler(deps.temporal, deps.config.TEMPORAL_TASK_QUEUE);
      for (const grant of grants) await schedule(grant);
      return grants.length;
    },
  };
}

export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;
