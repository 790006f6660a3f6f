import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { fingerprint, normaliseUserId } from '../ledger/ids';
import { collectionNames, isDuplicateKeyError } from '../mongo/collections';
import { parseSiteTime, type SiteTime } from '../tenancy/site-time';

/** The most of a prompt that is kept (the plugin sends at most 500; longer ones are cut). */
export const maxPromptLength = 500;

/** One generation in the `{events: [...]}` batch format (clients other than the WordPress plugin). */
export interface GenerationEventInput {
  event_id?: string;
  user_id: string | number;
  user_email: string;
  credit_type: string;
  credits_used?: number;
  prompt?: string | null;
  result_length?: number | null;
  metadata?: Record<string, unknown>;
  /** When it happened (MySQL local time or ISO); part of the derived key, so resends keep it. */
  timestamp?: string;
}

/** One generation as the plugin reports it: live (log_generation()) or a row of its hourly sync. */
export interface PluginGenerationInput {
  event_id?: string;
  user_id: string | number;
  user_email?: string;
  content_type: string;
  prompt?: string | null;
  result_length?: number | null;
  credits_used?: number | null;
  metadata?: Record<string, unknown>;
  /** `timestamp` of log_generation(), `created_at` of a sync row. */
  created_at?: string;
}

export type GenerationSource = 'generation' | 'usage_sync' | 'events';

export interface GenerationEventDocument {
  instance_id: string;
  event_key: string;
  source: GenerationSource;
  event_id?: string;
  user_id: string;
  user_email?: string;
  credit_type: string;
  credits_used?: number;
  /** At most maxPromptLength characters; null when the plugin had none. */
  prompt?: string | null;
  result_length?: number;
  metadata: Record<string, unknown>;
  /** The instant (zone-less plugin times read in the site's zone); the receipt time when none. */
  occurred_at: Date;
  /** The time as sent, in canonical form (see site-time.ts), when one was sent. */
  occurred_at_text?: string;
  received_at: Date;
}

/** Cuts a prompt to maxPromptLength characters (code points, so no character is split). */
export function truncatePrompt(prompt: string | null | undefined): string | null {
  if (prompt === null || prompt === undefined) return null;
  if (prompt.length <= maxPromptLength) return prompt;
  return Array.from(prompt).slice(0, maxPromptLength).join('');
}

/**
 * The unique key of an `{events: [...]}` event within its instance: the client's `event_id`, or else
 * a hash of what the event says, so the same event sent again in a retried batch is recognised. Two
 * events that say exactly the same thing with no id and no timestamp count as one.
 */
export function eventKey(instanceId: string, event: GenerationEventInput): string {
  if (event.event_id) return `id:${event.event_id}`;
  return `sha256:${fingerprint({
    instance_id: instanceId,
    user_id: String(event.user_id),
    credit_type: event.credit_type,
    credits_used: event.credits_used,
    timestamp: event.timestamp ?? null,
    metadata: event.metadata ?? {},
    // Only when sent, so events stored before these fields existed keep their keys.
    prompt: event.prompt ?? undefined,
    result_length: event.result_length ?? undefined,
  })}`;
}

/**
 * The key of a generation the plugin reports. Its rows carry no id of their own on the wire (the
 * sync sends user_id, content_type, prompt, result_length, created_at), and the hourly sync resends
 * overlapping hours, so a generation is recognised by what identifies it: the instance, who
 * (user_id, `12` and `"12"` alike), what kind (content_type), when (created_at in its canonical
 * wall-clock form, so a later change of the site's time zone cannot make an old row look new) and
 * the prompt (cut to 500 characters as stored, null and empty alike). result_length and
 * credits_used are left out: they describe the result, not which generation it was, and the live
 * report and the sync row of one generation need not both carry them. The same key for the live
 * report (log_generation(), `timestamp`) and the sync row (`created_at`) stores a generation
 * reported both ways once when the plugin gives both the same time. Two different generations of
 * one user, type and prompt in the same second count as one: the plugin gives nothing finer.
 */
export function pluginGenerationKey(
  instanceId: string,
  generation: { user_id: string | number; content_type: string; prompt?: string | null },
  time: SiteTime,
): string {
  return `gen:${fingerprint({
    instance_id: instanceId,
    user_id: normaliseUserId(generation.user_id),
    content_type: generation.content_type,
    created_at: time.canonical,
    prompt: truncatePrompt(generation.prompt) ?? '',
  })}`;
}

/** A generation from the plugin, ready to store; `timezone` is the site's (for zone-less times). */
export function pluginGenerationDocument(
  instanceId: string,
  source: Exclude<GenerationSource, 'events'>,
  generation: PluginGenerationInput,
  timezone: string | undefined,
  now: Date,
): GenerationEventDocument {
  const time =
    generation.created_at === undefined ? undefined : parseSiteTime(generation.created_at, timezone);
  // A live report with neither an id nor a time cannot be told from a second, real generation: kept.
  const key = generation.event_id
    ? `id:${generation.event_id}`
    : time
      ? pluginGenerationKey(instanceId, generation, time)
      : `live:${randomUUID()}`;
  return withoutUndefined({
    instance_id: instanceId,
    event_key: key,
    source,
    event_id: generation.event_id,
    user_id: normaliseUserId(generation.user_id),
    user_email: generation.user_email,
    credit_type: generation.content_type,
    credits_used: generation.credits_used ?? undefined,
    prompt: truncatePrompt(generation.prompt),
    result_length: generation.result_length ?? undefined,
    metadata: generation.metadata ?? {},
    occurred_at: time?.at ?? now,
    occurred_at_text: time?.canonical,
    received_at: now,
  });
}

/** An `{events: [...]}` event, ready to store. */
export function legacyEventDocument(
  instanceId: string,
  event: GenerationEventInput,
  timezone: string | undefined,
  now: Date,
): GenerationEventDocument {
  const time = event.timestamp === undefined ? undefined : parseSiteTime(event.timestamp, timezone);
  return withoutUndefined({
    instance_id: instanceId,
    event_key: eventKey(instanceId, event),
    source: 'events' as const,
    event_id: event.event_id,
    user_id: normaliseUserId(event.user_id),
    user_email: event.user_email,
    credit_type: event.credit_type,
    credits_used: event.credits_used,
    prompt: event.prompt === undefined ? undefined : truncatePrompt(event.prompt),
    result_length: event.result_length ?? undefined,
    metadata: event.metadata ?? {},
    occurred_at: time?.at ?? now,
    occurred_at_text: time?.canonical,
    received_at: now,
  });
}

/** Stores the generations not stored before; returns how many were new. */
export async function recordGenerationEvents(db: Db, documents: readonly GenerationEventDocument[]) {
  return insertNew(db.collection(collectionNames.generationEvents), documents);
}

/**
 * Inserts documents that a unique index keys, skipping those already there; returns how many were
 * new. Unordered: a duplicate stops only itself. Keys repeated within one batch count once.
 */
export async function insertNew<T extends object>(
  collection: Collection,
  documents: readonly T[],
): Promise<number> {
  if (documents.length === 0) return 0;
  try {
    return (
      await collection.insertMany(
        documents.map((doc) => ({ ...doc })),
        { ordered: false },
      )
    ).insertedCount;
  } catch (error) {
    const writeErrors = ([] as unknown[]).concat((error as { writeErrors?: unknown }).writeErrors ?? []);
    if (writeErrors.length === 0 || !writeErrors.every(isDuplicateKeyError)) throw error;
    // Every document but the refused ones went in. Counted from the errors, not the reply's
    // insertedCount, which mongo-java-server reports wrong after a duplicate.
    return documents.length - writeErrors.length;
  }
}

export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
