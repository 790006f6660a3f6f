import type { Db } from 'mongodb';
import { findApiKey } from './api-keys';
import { hashToken, parseScopedKey, tokenMatches } from './credentials';
import { findInstance, findInstanceCached, type InstanceDoc, instances, refreshInstance } from './instances';
import type { Scope } from './scopes';

// The one credential check: plugin authentication (http/middleware/plugin-auth.ts) and the
// auth-debug route both use it, so they can never disagree about what a valid token is.

/**
 * What a credential may do: everything (the instance's api_token), a scoped key's scopes, or only
 * read (a token rotated out, while its grace period lasts: whoever holds a leaked old token cannot
 * rotate, mint keys or change anything before the grace ends).
 */
export type Grant = Scope[] | 'all' | 'read_only';

/** Which credential the caller presented, if it belongs to this instance and is still valid. */
export async function credentialGrant(
  db: Db,
  instance: InstanceDoc,
  token: string,
  now: Date,
): Promise<Grant | undefined> {
  if (instance.deleted_at) return undefined; // an operator deleted it: nothing of it works
  const scoped = parseScopedKey(token);
  if (scoped) {
    const key = await findApiKey(db, scoped.keyId);
    if (!key || key.instance_id !== instance.instance_id || !tokenMatches(token, key.key_hash))
      return undefined;
    if (key.revoked_at || (key.expires_at && key.expires_at <= now)) return undefined;
    return key.scopes;
  }
  if (tokenMatches(token, instance.api_token_hash)) return 'all';
  const inGrace = instance.previous_api_token_expires_at && instance.previous_api_token_expires_at > now;
  if (inGrace && tokenMatches(token, instance.previous_api_token_hash)) return 'read_only';
  return undefined;
}

export interface Authenticated {
  instance: InstanceDoc;
  grant: Grant;
}

/**
 * The instance named by X-Instance-ID, when the token is one of its live credentials. The instance
 * comes from a cache of at most a second (instance-cache.ts); a token it refuses is checked once more
 * against a fresh read, so a token rotated (or an instance registered) in another API process works
 * there at once.
 */
export async function authenticate(
  db: Db,
  instanceId: string,
  token: string,
  now = new Date(),
): Promise<Authenticated | undefined> {
  const check = async (instance: InstanceDoc | null) => {
    const grant = instance ? await credentialGrant(db, instance, token, now) : undefined;
    return instance && grant ? { instance, grant } : undefined;
  };
  return (
    (await check(await findInstanceCached(db, instanceId))) ?? check(await refreshInstance(db, instanceId))
  );
}

/**
 * The instance a token belongs to, whatever X-Instance-ID says (for the auth-debug route: "your
 * token is valid, but for another instance id"). Found by the token's hash, then checked by
 * credentialGrant like any other call.
 */
export async function credentialOwner(
  db: Db,
  token: string,
  now = new Date(),
): Promise<Authenticated | undefined> {
  const scoped = parseScopedKey(token);
  let candidates: InstanceDoc[] = [];
  if (scoped) {
    const key = await findApiKey(db, scoped.keyId);
    const instance = key ? await findInstance(db, key.instance_id) : null;
    candidates = instance ? [instance] : [];
  } else {
    const hash = hashToken(token);
    const projection = { projection: { _id: 0 } };
    const current = await instances(db).findOne({ api_token_hash: hash }, projection);
    const previous = current
      ? null
      : await instances(db).findOne({ previous_api_token_hash: hash }, projection);
    for (const doc of [current, previous]) if (doc) candidates.push(doc);
  }
  for (const instance of candidates) {
    const grant = await credentialGrant(db, instance, token, now);
    if (grant) return { instance, grant };
  }
  return undefined;
}
