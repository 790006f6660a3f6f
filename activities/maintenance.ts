import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import type { Config } from '../src/config';
import { grantExpiryScheduler } from '../src/ledger/expiry-scheduler';
import type { LedgerEntry } from '../src/ledger/types';
import { collectionNames } from '../src/mongo/collections';
import { webhookDeliveries } from '../src/webhooks/deliveries';
import { startDelivery } from '../src/webhooks/publish';
import { deliverySchedule } from '../src/webhooks/retry-schedule';

// Work whose workflow start can be lost when a process dies (or Temporal is down) between a write and
// the start that follows it. Both starts are idempotent by workflow id, so a sweep may repeat them.

export interface MaintenanceDeps {
  db: Db;
  temporal: Client;
  config: Config;
}

export function createMaintenanceActivities(deps: MaintenanceDeps) {
  const publisher = { db: deps.db, client: deps.temporal, config: deps.config };
  return {
    /** Webhook deliveries stored as pending whose workflow never started. */
    async restartStrandedDeliveries(input: { older_than_ms: number }): Promise<number> {
      const before = new Date(Date.now() - input.older_than_ms);
      const stranded = await webhookDeliveries(deps.db)
        .find({ status: 'pending', updated_at: { $lt: before } })
        .limit(1_000)
        .toArray();
      let started = 0;
      for (const delivery of stranded) {
        // REJECT_DUPLICATE: a delivery whose workflow ran (or runs) is left alone.
        if ((await startDelivery(publisher, delivery, deliverySchedule(deps.config), false)) === 'started')
          started += 1;
      }
      return started;
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
