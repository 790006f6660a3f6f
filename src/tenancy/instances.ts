import type { Db, UpdateFilter } from 'mongodb';
import { BatchedReader } from '../mongo/batched-reads';
import { collectionNames } from '../mongo/collections';
import { isDuplicateKeyError } from '../mongo/errors';
import { hashToken, newApiToken, newWebhookSecret } from './credentials';
import { cachedInstance, forgetInstance } from './instance-cache';
import type { SecretBox, StoredSecret } from './secret-box';
import { parseSiteTime } from './site-time';

/** What a plugin tells about its site at registration (and later through PUT /instances/:id). */
export interface InstanceProfile {
  site_url: string;
  admin_email: string;
  site_title?: string;
  wordpress_version?: string;
  plugin_version?: string;
  php_version?: string;
  theme?: string;
  /** As the plugin sent it: an IANA zone, an offset (`+09:00`) or `UTC`; zone-less times are read in it. */
  timezone?: string;
  language?: string;
  post_count?: number;
  page_count?: number;
  media_count?: number;
  /** Normalised to an instant (see site-time.ts). */
  activation_date?: Date;
  last_activity?: Date;
}

export const profileTextFields = [
  'site_url',
  'admin_email',
  'site_title',
  'wordpress_version',
  'plugin_version',
  'php_version',
  'theme',
  'timezone',
  'language',
] as const;
export const profileCountFields = ['post_count', 'page_count', 'media_count'] as const;
export const profileTimeFields = ['activation_date', 'last_activity'] as const;

/** The profile fields of a request, validated: absent and null both mean "not given". */
export type ProfileInput = {
  [K in (typeof profileTextFields)[number]]?: string | null;
} & {
  [K in (typeof profileCountFields)[number]]?: number | null;
} & {
  [K in (typeof profileTimeFields)[number]]?: string | null;
};

/**
 * The profile to store. Timestamps are MySQL local times (`current_time('mysql')`) or ISO 8601; a
 * zone-less one is read in the time zone the same request gives, else the one stored for the
 * instance, else UTC. A timestamp that names no instant (`0000-00-00 00:00:00`, unreadable text) is
 * left out rather than refused: nothing is refused for its time format.
 */
export function profileToStore(input: ProfileInput, storedTimezone?: string): Partial<InstanceProfile> {
  const profile: Partial<InstanceProfile> = {};
  for (const field of profileTextFields) {
    const value = input[field];
    if (typeof value === 'string') profile[field] = value;
  }
  for (const field of profileCountFields) {
    const value = input[field];
    if (typeof value === 'number') profile[field] = value;
  }
  const timezone = profile.timezone ?? storedTimezone;
  for (const field of profileTimeFields) {
    const value = input[field];
    const at = typeof value === 'string' ? parseSiteTime(value, timezone).at : null;
    if (at) profile[field] = at;
  }
  return profile;
}

export const instanceStatuses = ['active', 'pending', 'disabled'] as const;
export type InstanceStatus = (typeof instanceStatuses)[number];

/** Why a pending instance waits: its site has not proved it holds the secret, or an operator has not approved it. */
export const pendingReasons = ['site_verification', 'operator_approval'] as const;
export type PendingReason = (typeof pendingReasons)[number];

export interface InstanceDoc extends InstanceProfile {
  instance_id: string;
  status: InstanceStatus;
  disabled_reason?: string;
  pending_reason?: PendingReason;
  /** The test_webhook whose 2xx from the site makes a `site_verification` instance active. */
  verification_event_id?: string;
  verified_at?: Date;
  api_token_hash: string;
  /** The token replaced by the last rotation, accepted until `previous_api_token_expires_at`. */
  previous_api_token_hash?: string;
  previous_api_token_expires_at?: Date;
  webhook_secret: StoredSecret;
  previous_webhook_secret?: StoredSecret;
  previous_webhook_secret_expires_at?: Date;
  credentials_version: number;
  /** Set by an operator's delete: the record stays (disabled, no credentials) with its ledger. */
  deleted_at?: Date;
  created_at: Date;
  updated_at: Date;
}

/** The instance as the API shows it: never its secrets. */
export interface PublicInstance {
  instance_id: string;
  site_url: string;
  admin_email: string;
  site_title: string | null;
  wordpress_version: string | null;
  plugin_version: string | null;
  php_version: string | null;
  theme: string | null;
  timezone: string | null;
  language: string | null;
  post_count: number | null;
  page_count: number | null;
  media_count: number | null;
  /** ISO 8601, UTC. */
  activation_date: string | null;
  last_activity: string | null;
  status: InstanceStatus;
  disabled_reason: string | null;
  pending_reason: PendingReason | null;
  created_at: string;
  updated_at: string;
}

export function publicInstance(doc: InstanceDoc): PublicInstance {
  return {
    instance_id: doc.instance_id,
    site_url: doc.site_url,
    admin_email: doc.admin_email,
    site_title: doc.site_title ?? null,
    wordpress_version: doc.wordpress_version ?? null,
    plugin_version: doc.plugin_version ?? null,
    php_version: doc.php_version ?? null,
    theme: doc.theme ?? null,
    timezone: doc.timezone ?? null,
    language: doc.language ?? null,
    post_count: doc.post_count ?? null,
    page_count: doc.page_count ?? null,
    media_count: doc.media_count ?? null,
    activation_date: doc.activation_date?.toISOString() ?? null,
    last_activity: doc.last_activity?.toISOString() ?? null,
    status: doc.status,
    disabled_reason: doc.disabled_reason ?? null,
    pending_reason: doc.status === 'pending' ? (doc.pending_reason ?? null) : null,
    created_at: doc.created_at.toISOString(),
    updated_at: doc.updated_at.toISOString(),
  };
}

export class AlreadyRegisteredError extends Error {
  constructor(readonly instanceId: string) {
    super(`instance ${instanceId} is already registered`);
  }
}

export class RotationConflictError extends Error {}

export function instances(db: Db) {
  return db.collection<InstanceDoc>(collectionNames.instances);
}

export type Registration = ProfileInput & { instance_id: string; site_url: string; admin_email: string };

/** How a registration starts, by mode: at once, or pending until the site or an operator lets it in. */
function initialStatus(admission: Admission): Partial<InstanceDoc> {
  if (admission.mode !== 'verified') {
    return admission.mode === 'open'
      ? { status: 'active' }
      : { status: 'pending', pending_reason: 'operator_approval' };
  }
  return {
    status: 'pending',
    pending_reason: 'site_verification',
    verification_event_id: admission.verificationEventId,
  };
}

/** How a new instance is let in (REGISTRATION_MODE), and for `verified` the webhook it waits for. */
export type Admission = { mode: 'open' | 'approval' } | { mode: 'verified'; verificationEventId: string };

/**
 * Creates an instance and returns its credentials, the only time they are shown. The unique index
 * on instance_id decides between two concurrent registrations: the second one is refused.
 */
export async function registerInstance(
  db: Db,
  box: SecretBox,
  registration: Registration,
  admission: Admission,
  now = new Date(),
) {
  const apiToken = newApiToken();
  const webhookSecret = newWebhookSecret();
  const initial = initialStatus(admission);
  try {
    await instances(db).insertOne({
      ...profileToStore(registration),
      instance_id: registration.instance_id,
      site_url: registration.site_url,
      admin_email: registration.admin_email,
      status: 'active',
      ...initial,
      api_token_hash: hashToken(apiToken),
      webhook_secret: box.seal(webhookSecret),
      credentials_version: 1,
      created_at: now,
      updated_at: now,
    });
  } catch (error) {
    if (isDuplicateKeyError(error)) throw new AlreadyRegisteredError(registration.instance_id);
    throw error;
  }
  forgetInstance(db, registration.instance_id); // a "no such instance" cached by an early call
  return {
    instance_id: registration.instance_id,
    api_token: apiToken,
    webhook_secret: webhookSecret,
    instance_status: initial.status as InstanceStatus,
  };
}

/**
 * Takes back a registration whose verification could not be sent, so the plugin's next try can
 * register again (the api token hash makes sure it is this registration, not a later one).
 */
export async function withdrawRegistration(db: Db, instanceId: string, apiToken: string) {
  await instances(db).deleteOne({
    instance_id: instanceId,
    api_token_hash: hashToken(apiToken),
    status: 'pending',
  });
  forgetInstance(db, instanceId);
}

/**
 * Lets a pending instance in: with `verification`, only the site verification it waits for (that
 * event, delivered to the site it names now); without, whatever it waits for (an operator's
 * approval). A conditional update: running it twice, or after the instance was disabled or moved to
 * another site, changes nothing.
 */
export async function activatePendingInstance(
  db: Db,
  instanceId: string,
  verification?: { eventId: string; siteUrl: string },
  now = new Date(),
): Promise<InstanceDoc | null> {
  const filter =
    verification === undefined
      ? { instance_id: instanceId, status: 'pending' as const }
      : {
          instance_id: instanceId,
          status: 'pending' as const,
          pending_reason: 'site_verification' as const,
          verification_event_id: verification.eventId,
          site_url: verification.siteUrl,
        };
  const updated = await instances(db).findOneAndUpdate(
    filter,
    {
      $set: { status: 'active', updated_at: now, ...(verification ? { verified_at: now } : {}) },
      $unset: { pending_reason: '', verification_event_id: '' },
    },
    { returnDocument: 'after', projection: { _id: 0 } },
  );
  forgetInstance(db, instanceId);
  return updated;
}

/** The instance as plugin authentication sees it: read at most a second ago (instance-cache.ts). */
export function findInstanceCached(db: Db, instanceId: string): Promise<InstanceDoc | null> {
  return cachedInstance(db, instanceId, findInstanceBatched);
}

const instanceReaders = new WeakMap<Db, BatchedReader<string, InstanceDoc>>();

/**
 * `findInstance`, read together with the other misses of the moment (a webhook burst over many
 * instances, many plugins calling at once): one query for many. Still a read made after the call.
 */
async function findInstanceBatched(db: Db, instanceId: string): Promise<InstanceDoc | null> {
  let reader = instanceReaders.get(db);
  if (!reader) {
    reader = new BatchedReader(async (ids) => {
      const docs = await instances(db)
        .find({ instance_id: { $in: ids } }, { projection: { _id: 0 } })
        .toArray();
      return new Map(docs.map((doc) => [doc.instance_id, doc]));
    });
    instanceReaders.set(db, reader);
  }
  return (await reader.read(instanceId)) ?? null;
}

/** Reads the instance again, and caches that read. */
export function refreshInstance(db: Db, instanceId: string): Promise<InstanceDoc | null> {
  forgetInstance(db, instanceId);
  return findInstanceCached(db, instanceId);
}

export function findInstance(db: Db, instanceId: string): Promise<InstanceDoc | null> {
  return instances(db).findOne({ instance_id: instanceId }, { projection: { _id: 0 } });
}

export type Credential = 'api_token' | 'webhook_secret';

/**
 * Replaces the chosen credentials. The old api token keeps working for the grace period, and the old
 * webhook secret still signs (as a second Standard Webhooks signature) for the same time, so a plugin
 * can store the new values without missing a call. A unique (instance, version) record makes two
 * concurrent rotations impossible: the loser gets RotationConflictError and may simply retry.
 */
export async function rotateCredentials(
  db: Db,
  box: SecretBox,
  instance: InstanceDoc,
  which: readonly Credential[],
  graceSeconds: number,
  now = new Date(),
): Promise<Partial<Record<Credential, string>>> {
  const version = instance.credentials_version + 1;
  try {
    await db
      .collection(collectionNames.credentialRotations)
      .insertOne({ instance_id: instance.instance_id, version, rotated: [...which], created_at: now });
  } catch (error) {
    if (isDuplicateKeyError(error)) throw new RotationConflictError('a rotation is already in progress');
    throw error;
  }
  const graceEnds = new Date(now.getTime() + graceSeconds * 1000);
  const fresh: Partial<Record<Credential, string>> = {};
  const set: Partial<InstanceDoc> = { credentials_version: version, updated_at: now };
  if (which.includes('api_token')) {
    fresh.api_token = newApiToken();
    set.api_token_hash = hashToken(fresh.api_token);
    set.previous_api_token_hash = instance.api_token_hash;
    set.previous_api_token_expires_at = graceEnds;
  }
  if (which.includes('webhook_secret')) {
    fresh.webhook_secret = newWebhookSecret();
    set.webhook_secret = box.seal(fresh.webhook_secret);
    set.previous_webhook_secret = instance.webhook_secret;
    set.previous_webhook_secret_expires_at = graceEnds;
  }
  await instances(db).updateOne({ instance_id: instance.instance_id }, { $set: set });
  forgetInstance(db, instance.instance_id);
  return fresh;
}

export type InstancePatch = ProfileInput;

/**
 * Whether a new site_url must be proved (or approved) again: in `verified` and `approval` modes an
 * instance admitted for one site may not move to another origin on its own say-so, and a pending
 * site verification is sent again when the plugin names its site anew.
 */
export function needsReadmission(
  instance: Pick<InstanceDoc, 'site_url' | 'status' | 'pending_reason'>,
  siteUrl: string | null | undefined,
  mode: Admission['mode'],
): boolean {
  if (mode === 'open' || !siteUrl || instance.status === 'disabled') return false;
  if (instance.status === 'pending' && instance.pending_reason === 'site_verification')
    return mode === 'verified';
  return new URL(siteUrl).origin !== new URL(instance.site_url).origin;
}

/**
 * Sets the profile fields given (others stay); zone-less times are read in the new or stored zone.
 * With `readmission`, the instance is pending again until it is verified or approved once more.
 */
export async function updateInstance(
  db: Db,
  instance: Pick<InstanceDoc, 'instance_id' | 'timezone'>,
  patch: InstancePatch,
  now = new Date(),
  readmission?: Exclude<Admission, { mode: 'open' }>,
) {
  const set = { ...profileToStore(patch, instance.timezone), updated_at: now };
  const update = readmission
    ? {
        $set: { ...set, ...initialStatus(readmission) },
        // An approval asks for no webhook: a verification it replaces no longer counts.
        ...(readmission.mode === 'approval' ? { $unset: { verification_event_id: '' as const } } : {}),
      }
    : { $set: set };
  const updated = await instances(db).findOneAndUpdate({ instance_id: instance.instance_id }, update, {
    returnDocument: 'after',
  });
  forgetInstance(db, instance.instance_id);
  return updated;
}

export async function setInstanceStatus(
  db: Db,
  instanceId: string,
  status: 'active' | 'disabled',
  reason: string | undefined,
  now = new Date(),
) {
  const update: UpdateFilter<InstanceDoc> =
    status === 'disabled'
      ? {
          $set: { status, disabled_reason: reason ?? 'disabled by operator', updated_at: now },
          // A disabled instance waits for nothing: enabling it later is the operator's decision.
          $unset: { pending_reason: '' as const, verification_event_id: '' as const },
        }
      : { $set: { status, updated_at: now }, $unset: { disabled_reason: '' as const } };
  const updated = await instances(db).findOneAndUpdate({ instance_id: instanceId }, update, {
    returnDocument: 'after',
  });
  forgetInstance(db, instanceId);
  return updated;
}

/**
 * An operator's delete: every credential of the instance stops working (its api token, a token
 * rotated out and still in grace, every scoped key), and it is disabled. The record stays, so the id
 * cannot be registered again by someone else and take over the accounts, and its ledger is kept.
 * Deleting again changes nothing but revokes the keys once more (a crash between the two writes
 * leaves no key working: credentialGrant refuses a deleted instance's keys anyway). Null when there
 * is no such instance; `deletedNow` is false when it was deleted before.
 */
export async function deleteInstance(
  db: Db,
  instanceId: string,
  now = new Date(),
): Promise<{ instance: InstanceDoc; deletedNow: boolean } | null> {
  const deleted = await instances(db).findOneAndUpdate(
    { instance_id: instanceId, deleted_at: { $exists: false } },
    {
      $set: {
        status: 'disabled',
        disabled_reason: 'deleted by operator',
        deleted_at: now,
        updated_at: now,
        // No token hashes to the empty string (credentials.ts: tokenMatches).
        api_token_hash: '',
      },
      $unset: {
        previous_api_token_hash: '',
        previous_api_token_expires_at: '',
        pending_reason: '',
        verification_event_id: '',
      },
    },
    { returnDocument: 'after', projection: { _id: 0 } },
  );
  forgetInstance(db, instanceId);
  const instance = deleted ?? (await findInstance(db, instanceId));
  if (!instance?.deleted_at) return null;
  await db
    .collection(collectionNames.apiKeys)
    .updateMany({ instance_id: instanceId, revoked_at: { $exists: false } }, { $set: { revoked_at: now } });
  return { instance, deletedNow: deleted !== null };
}

/** Where and how to sign webhooks for an instance (the delivery activities use this). */
export async function webhookSigningKeys(
  db: Db,
  box: SecretBox,
  instanceId: string,
  now = new Date(),
  read: (db: Db, instanceId: string) => Promise<InstanceDoc | null> = findInstance,
) {
  const doc = await read(db, instanceId);
  if (!doc) return null;
  const previousValid =
    doc.previous_webhook_secret &&
    doc.previous_webhook_secret_expires_at &&
    doc.previous_webhook_secret_expires_at > now;
  return {
    site_url: doc.site_url,
    status: doc.status,
    secret: box.open(doc.webhook_secret),
    previous_secret: previousValid ? box.open(doc.previous_webhook_secret!) : undefined,
  };
}
