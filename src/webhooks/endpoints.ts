import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { BatchedReader } from '../mongo/batched-reads';
import { collectionNames } from '../mongo/collections';
import { isDuplicateKeyError } from '../mongo/errors';
import type { WebhookEventType } from './catalogue';

// Where an instance's webhooks go. Every instance has the implicit `default` endpoint on its site (the
// URL the existing plugin listens on); its record exists only once it has state to keep (failing,
// disabled). Plugins may register more endpoints, each with an event filter.

export const defaultEndpointId = 'default';
export const maxEndpointsPerInstance = 10;

export type EndpointStatus = 'active' | 'disabled' | 'deleted';

export interface WebhookEndpointDoc {
  instance_id: string;
  endpoint_id: string;
  kind: 'default' | 'registered';
  /** Registered endpoints only: the default one follows the instance's current site_url. */
  url?: string;
  /** Event types sent here; `*` is every type. */
  events: Array<WebhookEventType | '*'>;
  description?: string;
  status: EndpointStatus;
  /** Since when every attempt has failed (cleared by a success). */
  failing_since?: Date;
  disabled_at?: Date;
  disabled_reason?: string;
  created_at: Date;
  updated_at: Date;
}

export interface PublicEndpoint {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  status: EndpointStatus;
  failing_since: string | null;
  disabled_at: string | null;
  disabled_reason: string | null;
  created_at: string | null;
}

export function webhookEndpoints(db: Db) {
  return db.collection<WebhookEndpointDoc>(collectionNames.webhookEndpoints);
}

/** The endpoint the existing WordPress plugin serves. */
export function defaultEndpointUrl(siteUrl: string): string {
  const base = siteUrl.replace(/\/+$/, '');
  return `${base}/wp-admin/admin-ajax.php?action=rakubun_webhook`;
}

export function endpointAccepts(endpoint: Pick<WebhookEndpointDoc, 'events'>, type: WebhookEventType) {
  return endpoint.events.includes('*') || endpoint.events.includes(type);
}

/** The default endpoint as it stands: its stored state, or a fresh active one. */
export function defaultEndpoint(instanceId: string, stored?: WebhookEndpointDoc | null): WebhookEndpointDoc {
  if (stored) return stored;
  const epoch = new Date(0);
  return {
    instance_id: instanceId,
    endpoint_id: defaultEndpointId,
    kind: 'default',
    events: ['*'],
    status: 'active',
    created_at: epoch,
    updated_at: epoch,
  };
}

export function publicEndpoint(doc: WebhookEndpointDoc, siteUrl: string): PublicEndpoint {
  return {
    id: doc.endpoint_id,
    url: doc.kind === 'default' ? defaultEndpointUrl(siteUrl) : doc.url!,
    events: doc.events,
    description: doc.description ?? (doc.kind === 'default' ? 'the plugin on the site itself' : null),
    status: doc.status,
    failing_since: doc.failing_since?.toISOString() ?? null,
    disabled_at: doc.disabled_at?.toISOString() ?? null,
    disabled_reason: doc.disabled_reason ?? null,
    created_at: doc.kind === 'default' ? null : doc.created_at.toISOString(),
  };
}

// Publishing reads an instance's endpoints for every event. This keeps them for at most a second per
// process (per database handle); the writes below forget them, so this process sees its own changes
// at once and other processes within the second (a delivery queued meanwhile for an endpoint just
// disabled is dead-lettered by its drain, which reads the endpoint itself).
const endpointCacheTtlMs = 1_000;
const endpointCaches = new WeakMap<Db, Map<string, { at: number; docs: Promise<WebhookEndpointDoc[]> }>>();

/** `listEndpoints` as read at most a second ago; concurrent misses share one read. */
export function listEndpointsCached(
  db: Db,
  instanceId: string,
  now = Date.now(),
): Promise<WebhookEndpointDoc[]> {
  let cache = endpointCaches.get(db);
  if (!cache) {
    cache = new Map();
    endpointCaches.set(db, cache);
  }
  const hit = cache.get(instanceId);
  if (hit && now - hit.at < endpointCacheTtlMs) return hit.docs;
  if (cache.size >= 10_000) cache.clear();
  const entry = { at: now, docs: listEndpointsBatched(db, instanceId) };
  cache.set(instanceId, entry);
  const current = cache;
  entry.docs.catch(() => {
    if (current.get(instanceId) === entry) current.delete(instanceId);
  });
  return entry.docs;
}

function forgetEndpoints(db: Db, instanceId: string): void {
  endpointCaches.get(db)?.delete(instanceId);
}

/** Every endpoint of an instance that is not deleted, the default one first. */
export async function listEndpoints(db: Db, instanceId: string): Promise<WebhookEndpointDoc[]> {
  const docs = await webhookEndpoints(db)
    .find({ instance_id: instanceId, status: { $ne: 'deleted' } }, { projection: { _id: 0 } })
    .sort({ created_at: 1 })
    .toArray();
  return endpointList(instanceId, docs);
}

function endpointList(instanceId: string, docs: WebhookEndpointDoc[]): WebhookEndpointDoc[] {
  const stored = docs.find((doc) => doc.endpoint_id === defaultEndpointId);
  return [defaultEndpoint(instanceId, stored), ...docs.filter((doc) => doc.kind === 'registered')];
}

const endpointReaders = new WeakMap<Db, BatchedReader<string, WebhookEndpointDoc[]>>();

/**
 * `listEndpoints`, read together with the other instances' misses of the moment (a burst over many
 * instances misses the cache for each of them within the same second): one query for many.
 */
async function listEndpointsBatched(db: Db, instanceId: string): Promise<WebhookEndpointDoc[]> {
  let reader = endpointReaders.get(db);
  if (!reader) {
    reader = new BatchedReader(async (ids) => {
      const docs = await webhookEndpoints(db)
        .find({ instance_id: { $in: ids }, status: { $ne: 'deleted' } }, { projection: { _id: 0 } })
        .sort({ created_at: 1 })
        .toArray();
      const byInstance = new Map<string, WebhookEndpointDoc[]>(ids.map((id) => [id, []]));
      for (const doc of docs) byInstance.get(doc.instance_id)?.push(doc);
      return new Map([...byInstance].map(([id, list]) => [id, endpointList(id, list)]));
    });
    endpointReaders.set(db, reader);
  }
  return (await reader.read(instanceId)) ?? endpointList(instanceId, []);
}

/** One endpoint of the instance (the default one always exists), or null if unknown or deleted. */
export async function findEndpoint(
  db: Db,
  instanceId: string,
  endpointId: string,
): Promise<WebhookEndpointDoc | null> {
  const doc = await webhookEndpoints(db).findOne(
    { instance_id: instanceId, endpoint_id: endpointId },
    { projection: { _id: 0 } },
  );
  if (endpointId === defaultEndpointId) return defaultEndpoint(instanceId, doc);
  return doc && doc.status !== 'deleted' ? doc : null;
}

export class TooManyEndpointsError extends Error {}

export async function createEndpoint(
  db: Db,
  input: { instance_id: string; url: string; events: Array<WebhookEventType | '*'>; description?: string },
  now = new Date(),
): Promise<WebhookEndpointDoc> {
  const live = await webhookEndpoints(db).countDocuments({
    instance_id: input.instance_id,
    kind: 'registered',
    status: { $ne: 'deleted' },
  });
  if (live >= maxEndpointsPerInstance) throw new TooManyEndpointsError();
  const doc: WebhookEndpointDoc = {
    instance_id: input.instance_id,
    endpoint_id: `we_${randomBytes(12).toString('base64url')}`,
    kind: 'registered',
    url: input.url,
    events: [...new Set(input.events)],
    ...(input.description ? { description: input.description } : {}),
    status: 'active',
    created_at: now,
    updated_at: now,
  };
  await webhookEndpoints(db).insertOne({ ...doc });
  forgetEndpoints(db, input.instance_id);
  return doc;
}

/** Soft delete: attempts and deliveries keep pointing at a record; in-flight deliveries stop. */
export async function deleteEndpoint(db: Db, instanceId: string, endpointId: string, now = new Date()) {
  const result = await webhookEndpoints(db).updateOne(
    { instance_id: instanceId, endpoint_id: endpointId, kind: 'registered', status: { $ne: 'deleted' } },
    { $set: { status: 'deleted', updated_at: now } },
  );
  forgetEndpoints(db, instanceId);
  return result.matchedCount === 1;
}

/** Marks the endpoint failing from now on, unless it already is (the first failure counts). */
export async function markFailing(db: Db, instanceId: string, endpointId: string, now: Date) {
  const filter = { instance_id: instanceId, endpoint_id: endpointId, failing_since: { $exists: false } };
  if (endpointId !== defaultEndpointId) {
    await webhookEndpoints(db).updateOne(filter, { $set: { failing_since: now, updated_at: now } });
    return;
  }
  try {
    // The default endpoint's record is made on its first failure.
    await webhookEndpoints(db).updateOne(
      filter,
      {
        $set: { failing_since: now, updated_at: now },
        $setOnInsert: { kind: 'default', events: ['*'], status: 'active', created_at: now },
      },
      { upsert: true },
    );
  } catch (error) {
    // The record exists and is already failing: the upsert's insert hit the unique index.
    if (!isDuplicateKeyError(error)) throw error;
  }
}

export async function clearFailing(db: Db, instanceId: string, endpointId: string, now: Date) {
  await webhookEndpoints(db).updateOne(
    { instance_id: instanceId, endpoint_id: endpointId, failing_since: { $exists: true } },
    { $unset: { failing_since: '' }, $set: { updated_at: now } },
  );
}

/** Disables an active endpoint; true only for the call that did it (so the operator is told once). */
export async function disableEndpoint(
  db: Db,
  instanceId: string,
  endpointId: string,
  reason: string,
  now: Date,
): Promise<boolean> {
  const result = await webhookEndpoints(db).updateOne(
    { instance_id: instanceId, endpoint_id: endpointId, status: 'active' },
    { $set: { status: 'disabled', disabled_at: now, disabled_reason: reason, updated_at: now } },
  );
  forgetEndpoints(db, instanceId);
  return result.modifiedCount === 1;
}

/** Enables a disabled endpoint; returns the record as it was, to tell what it missed. */
export async function enableEndpoint(db: Db, instanceId: string, endpointId: string, now = new Date()) {
  const before = await findEndpoint(db, instanceId, endpointId);
  if (before?.status !== 'disabled') return { before, changed: false };
  await webhookEndpoints(db).updateOne(
    { instance_id: instanceId, endpoint_id: endpointId, status: 'disabled' },
    {
      $set: { status: 'active', updated_at: now },
      $unset: { disabled_at: '', disabled_reason: '', failing_since: '' },
    },
  );
  forgetEndpoints(db, instanceId);
  return { before, changed: true };
}
