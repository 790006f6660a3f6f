import type { Db } from 'mongodb';
import { instanceIdAttribute } from '../../workflows/search-attributes';
import {
  endpointWorkflowId,
  wakeSignalName,
  webhookEndpointWorkflowType,
} from '../../workflows/webhook-endpoint/contract';
import { batchedWriter } from '../mongo/batched-writes';
import { collectionNames } from '../mongo/collections';
import type { WorkflowStarter } from '../temporal/starter';
import { type EndpointRef, endpointKey } from './queue';

// Whether an endpoint's drain is awake, as one document per endpoint: it exists from the moment a
// publisher wakes the endpoint until its drain, out of work, removes it and looks once more. So a
// publish costs one insert (refused by the unique `_id` while the drain is awake, which is the common
// case under load) and signals Temporal only when the drain was asleep. Publisher: queue the entry,
// then insert the wake. Drain: delete the wake, then look. Whichever way they interleave, either the
// drain sees the entry or the publisher's insert succeeds and signals.

interface WakeDoc {
  _id: string;
  instance_id: string;
  endpoint_id: string;
  at: Date;
}

const wakeWriter = (db: Db) => batchedWriter<WakeDoc>(db, collectionNames.webhookWakes);

export interface WakeDeps {
  db: Db;
  workflows: WorkflowStarter;
}

/**
 * Wakes the endpoint's workflow (starting it if it has ended) unless its drain is known awake.
 * `force` signals whatever the wake document says (the sweep repairing a lost signal).
 */
export async function wakeEndpoint(deps: WakeDeps, endpoint: EndpointRef, force = false): Promise<boolean> {
  const doc: WakeDoc = { _id: endpointKey(endpoint), ...pick(endpoint), at: new Date() };
  const outcome = await wakeWriter(deps.db).insert(doc);
  if (outcome === 'duplicate' && !force) return false;
  try {
    await signalEndpoint(deps, endpoint);
  } catch (error) {
    // Not signalled: leave no wake behind that would keep the next publishers from trying again.
    if (outcome === 'done') await markAsleep(deps.db, endpoint).catch(() => {});
    throw error;
  }
  return true;
}

/** The drain says it is awake again (it found work after going to sleep). */
export async function markAwake(db: Db, endpoint: EndpointRef): Promise<'done' | 'duplicate'> {
  return wakeWriter(db).insert({ _id: endpointKey(endpoint), ...pick(endpoint), at: new Date() });
}

/** The drain is going to sleep: the next publish must wake it. */
export async function markAsleep(db: Db, endpoint: EndpointRef): Promise<void> {
  await wakeWriter(db).write({ deleteOne: { filter: { _id: endpointKey(endpoint) } } });
}

async function signalEndpoint(deps: WakeDeps, endpoint: EndpointRef): Promise<void> {
  await deps.workflows.signalWithStart(webhookEndpointWorkflowType, {
    workflowId: endpointWorkflowId(endpoint),
    staticSummary: `Webhooks to ${endpoint.instance_id}, endpoint ${endpoint.endpoint_id}`,
    args: [pick(endpoint)],
    signal: wakeSignalName,
    signalArgs: [],
    typedSearchAttributes: [{ key: instanceIdAttribute, value: endpoint.instance_id }],
  });
}

function pick(endpoint: EndpointRef): EndpointRef {
  return { instance_id: endpoint.instance_id, endpoint_id: endpoint.endpoint_id };
}
