import type { Db } from 'mongodb';
import { collectionNames } from '../mongo/collections';
import type { SecretBox, StoredSecret } from '../tenancy/secret-box';
import { type ProviderId, providerIds } from './providers';
import {
  type ChangedBy,
  type SettingsLevels,
  type SettingsPatch,
  type SettingsScope,
  type StoredSettings,
  settingsFieldNames,
} from './settings';

// Provider settings in Mongo, one document per level and provider. The `_id` is the natural key
// (`global:openai`, `instance:<id>:openai`): an upsert can never make two, and a read of everything an
// instance sees is one `_id` lookup. API keys are sealed with the secret box before they are written.

type StoredFields = Omit<StoredSettings, 'api_key'> & { api_key?: StoredSecret };

export interface ProviderSettingsDoc extends StoredFields {
  _id: string;
  created_at: Date;
}

function documentId(scope: SettingsScope, provider: ProviderId): string {
  // Provider ids hold no ':', so the part after the last ':' is always the provider.
  return scope.kind === 'global' ? `global:${provider}` : `instance:${scope.instance_id}:${provider}`;
}

export function providerSettingsStore(db: Db, box: SecretBox) {
  const collection = db.collection<ProviderSettingsDoc>(collectionNames.providerSettings);

  const open = (doc: ProviderSettingsDoc): StoredSettings => {
    const { _id: _unused, created_at: _created, api_key, ...rest } = doc;
    return { ...rest, ...(api_key ? { api_key: box.open(api_key) } : {}) };
  };

  return {
    /** The operator's settings, and the instance's own when an instance is named. */
    async load(instanceId?: string): Promise<SettingsLevels> {
      const scopes: SettingsScope[] = [{ kind: 'global' }];
      if (instanceId !== undefined) scopes.push({ kind: 'instance', instance_id: instanceId });
      const ids = scopes.flatMap((scope) => providerIds.map((provider) => documentId(scope, provider)));
      const docs = await collection.find({ _id: { $in: ids } }).toArray();
      const levels: SettingsLevels = { global: {}, instance: {} };
      for (const doc of docs) levels[doc.scope][doc.provider] = open(doc);
      return levels;
    },

    /**
     * Applies a change to one level (last write wins, field by field). `activate` true makes this
     * provider the level's active one, false stops it being so, undefined leaves that alone.
     */
    async write(
      scope: SettingsScope,
      provider: ProviderId,
      patch: SettingsPatch,
      options: { by: ChangedBy; activate?: boolean; now?: Date },
    ): Promise<StoredSettings> {
      const now = options.now ?? new Date();
      const set: Record<string, unknown> = { updated_at: now, updated_by: options.by };
      const unset: Record<string, ''> = {};
      for (const field of settingsFieldNames) {
        const value = patch[field];
        if (value === undefined) continue;
        if (value === null) unset[field] = '';
        else set[field] = field === 'api_key' ? box.seal(value as string) : value;
      }
      if (options.activate === true) set.activated_at = now;
      if (options.activate === false) unset.activated_at = '';
      const doc = await collection.findOneAndUpdate(
        { _id: documentId(scope, provider) },
        {
          $set: set,
          ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
          $setOnInsert: {
            scope: scope.kind,
            instance_id: scope.kind === 'instance' ? scope.instance_id : null,
            provider,
            created_at: now,
          },
        },
        { upsert: true, returnDocument: 'after' },
      );
      if (!doc) throw new Error('provider settings upsert returned no document');
      return open(doc);
    },
  };
}
