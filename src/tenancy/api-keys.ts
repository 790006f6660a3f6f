import type { Db } from 'mongodb';
import { collectionNames } from '../mongo/collections';
import { hashToken, maskKey, newScopedKey } from './credentials';
import type { Scope } from './scopes';

export interface ApiKeyDoc {
  key_id: string;
  instance_id: string;
  name: string;
  key_hash: string;
  scopes: Scope[];
  expires_at?: Date;
  revoked_at?: Date;
  created_at: Date;
}

export interface PublicApiKey {
  id: string;
  name: string;
  key: string;
  scopes: Scope[];
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

function apiKeys(db: Db) {
  return db.collection<ApiKeyDoc>(collectionNames.apiKeys);
}

function publicKey(doc: ApiKeyDoc, key = maskKey(doc.key_id)): PublicApiKey {
  return {
    id: doc.key_id,
    name: doc.name,
    key,
    scopes: doc.scopes,
    expires_at: doc.expires_at?.toISOString() ?? null,
    revoked_at: doc.revoked_at?.toISOString() ?? null,
    created_at: doc.created_at.toISOString(),
  };
}

/** Creates a key; the response is the only place its full value ever appears. */
export async function createApiKey(
  db: Db,
  input: { instance_id: string; name: string; scopes: Scope[]; expires_at?: Date },
  now = new Date(),
): Promise<PublicApiKey> {
  const { keyId, key } = newScopedKey();
  const doc: ApiKeyDoc = { ...input, key_id: keyId, key_hash: hashToken(key), created_at: now };
  await apiKeys(db).insertOne({ ...doc });
  return publicKey(doc, key);
}

export async function listApiKeys(db: Db, instanceId: string): Promise<PublicApiKey[]> {
  const docs = await apiKeys(db).find({ instance_id: instanceId }).sort({ created_at: 1 }).toArray();
  return docs.map((doc) => publicKey(doc));
}

/** Revokes a key of this instance; false when the instance has no such key. */
export async function revokeApiKey(db: Db, instanceId: string, keyId: string, now = new Date()) {
  const result = await apiKeys(db).findOneAndUpdate(
    { instance_id: instanceId, key_id: keyId },
    { $set: { revoked_at: now } },
    { returnDocument: 'after' },
  );
  return result ? publicKey(result) : null;
}

export function findApiKey(db: Db, keyId: string): Promise<ApiKeyDoc | null> {
  return apiKeys(db).findOne({ key_id: keyId });
}
