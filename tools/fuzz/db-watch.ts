import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CommandSucceededEvent, Db, MongoClient } from 'mongodb';
import { collectionNames } from '../../src/mongo/collections';

// What a request changed in the database, for the fuzz run's "a 4xx writes nothing" check.
// Requests come one at a time (schemathesis runs with one worker), so every write command the API's
// own MongoDB client issues while a request is in flight is that request's. Two views:
// - writes: the API's write commands that changed something (driver command monitoring: n,
//   nModified, upserted), on every collection but the rate limiter's windows (counting a refused
//   request is its job);
// - counts: documents per collection before and after, on the collections no workflow writes (the
//   worker is a separate process and may still be finishing a purchase an earlier request began)
//   and that are not exempt above.

// Exempt by design: the rate limiter counts refused requests too; admin_audit records every admin
// call but a GET, refused ones included (the attempt, then its outcome); an Idempotency-Key record
// keeps a 4xx answer so that the same request gets it again (README: Credits ledger).
const exemptFromWrites = new Set<string>([
  collectionNames.rateLimitWindows,
  collectionNames.adminAudit,
  collectionNames.idempotencyKeys,
]);
const uncounted = new Set<string>([
  collectionNames.purchases,
  collectionNames.ledgerEntries,
  collectionNames.ledgerAccounts,
  collectionNames.generationEvents,
  collectionNames.analyticsTransactions,
  collectionNames.analyticsSyncs,
  collectionNames.webhookEvents,
  // An instance's default endpoint record is made by the worker, on its first failed delivery.
  collectionNames.webhookEndpoints,
  collectionNames.webhookDeliveries,
  collectionNames.webhookAttempts,
  collectionNames.webhookSupersedeMarks,
  collectionNames.webhookQueue,
  collectionNames.webhookWakes,
  collectionNames.webhookBroadcasts,
  collectionNames.operatorNotifications,
  collectionNames.rateLimitWindows,
  collectionNames.idempotencyKeys,
  collectionNames.adminAudit,
]);
const counted = Object.values(collectionNames).filter((name) => !uncounted.has(name));

const writeCommands = new Set(['insert', 'update', 'delete', 'findAndModify']);

export interface RequestVerdict {
  method: string;
  path: string;
  status: number;
  writes: string[];
  countChanges: string[];
}

function changed(event: CommandSucceededEvent): boolean {
  const reply = event.reply as Record<string, unknown> | undefined;
  if (!reply) return false;
  if (event.commandName === 'findAndModify') {
    const last = reply.lastErrorObject as { n?: number } | undefined;
    return (last?.n ?? 0) > 0;
  }
  // The embedded server counts a document refused as a duplicate in n; its writeErrors say so.
  const refused = Array.isArray(reply.writeErrors) ? reply.writeErrors.length : 0;
  const n = Number(reply.n ?? 0) - (event.commandName === 'insert' ? refused : 0);
  const modified = Number(reply.nModified ?? 0);
  const upserted = Array.isArray(reply.upserted) ? reply.upserted.length : 0;
  // An update's n counts matched documents; only nModified and upserts are changes.
  if (event.commandName === 'update') return modified > 0 || upserted > 0;
  return n > 0;
}

export function watchDatabase(apiClient: MongoClient, snapshotDb: Db) {
  const sentTo = new Map<number, string>();
  let writes: string[] | undefined;
  apiClient.on('commandStarted', (event) => {
    if (!writeCommands.has(event.commandName)) return;
    sentTo.set(event.requestId, String(event.command[event.commandName]));
  });
  apiClient.on('commandSucceeded', (event) => {
    const collection = sentTo.get(event.requestId);
    sentTo.delete(event.requestId);
    if (collection === undefined || !writes || exemptFromWrites.has(collection)) return;
    if (changed(event)) writes.push(`${event.commandName} ${collection}`);
  });
  apiClient.on('commandFailed', (event) => sentTo.delete(event.requestId));

  async function counts(): Promise<Map<string, number>> {
    const result = new Map<string, number>();
    for (const name of counted) result.set(name, await snapshotDb.collection(name).countDocuments({}));
    return result;
  }

  let last: Promise<RequestVerdict | undefined> = Promise.resolve(undefined);
  let requests = 0;
  let checked4xx = 0;

  /** Wraps a node request handler; requests must come one at a time. */
  function wrap(handler: (req: IncomingMessage, res: ServerResponse) => void) {
    return (req: IncomingMessage, res: ServerResponse) => {
      last = (async () => {
        const before = await counts();
        writes = [];
        const finished = new Promise<void>((resolve) => {
          res.once('finish', () => resolve());
          res.once('close', () => resolve());
        });
        handler(req, res);
        await finished;
        requests += 1;
        const path = (req.url ?? '').split('?')[0]!;
        const status = res.statusCode;
        const seen = writes;
        writes = undefined;
        if (status < 400 || status >= 500)
          return { method: req.method!, path, status, writes: [], countChanges: [] };
        checked4xx += 1;
        const after = await counts();
        const countChanges = [...after]
          .filter(([name, n]) => before.get(name) !== n)
          .map(([name, n]) => `${name}: ${before.get(name)} -> ${n}`);
        return { method: req.method!, path, status, writes: seen, countChanges };
      })();
    };
  }

  return {
    wrap,
    /** The verdict on the latest request, once its after-snapshot is taken. */
    latest: () => last,
    stats: () => ({ requests, checked4xx }),
  };
}
