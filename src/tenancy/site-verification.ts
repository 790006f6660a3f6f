import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { defaultEndpointId } from '../webhooks/endpoints';
import { newEventId } from '../webhooks/events';
import { type PublishResult, publishEvent, type WebhookPublisherDeps } from '../webhooks/publish';
import { activatePendingInstance, type InstanceDoc } from './instances';

// REGISTRATION_MODE=verified: an instance is pending until its own site answers 2xx to a signed
// test_webhook. The plugin answers 2xx only when X-Rakubun-Signature verifies with the secret it
// stored from its registration answer, so only the site that asked for the registration gets in.
// The webhook goes through the durable delivery path (retried for days, replayable by operators),
// and the drain that delivers it calls confirmSiteVerification.

export interface SiteVerification {
  /** The publish's idempotency key: a repeat of the same verification is the same event. */
  key: string;
  /** Stored on the instance: only this event's delivery makes it active. */
  event_id: string;
}

/** A fresh verification (one per registration, and per change of site). */
export function newSiteVerification(instanceId: string): SiteVerification {
  const key = `site-verification:${randomBytes(12).toString('hex')}`;
  return { key, event_id: newEventId(instanceId, key) };
}

/** Publishes the verification webhook to the site itself (never to an endpoint the plugin added). */
export function sendSiteVerification(
  publisher: WebhookPublisherDeps,
  instanceId: string,
  verification: SiteVerification,
): Promise<PublishResult> {
  return publishEvent(publisher, {
    instance_id: instanceId,
    event: 'test_webhook',
    data: {
      message: 'Verifying that this site holds the webhook secret it was given at registration',
      purpose: 'site_verification',
    },
    idempotency_key: verification.key,
    endpoint_ids: [defaultEndpointId],
  });
}

/**
 * Called for every test_webhook the site itself answered 2xx (they are rare: verifications and
 * manual test sends), with the site_url it was sent to: the answer to the verification its instance
 * waits for, from the site it names now, makes the instance active.
 */
export async function confirmSiteVerification(
  db: Db,
  delivered: { instance_id: string; event_id: string; endpoint_id: string },
  sentToSite: string,
): Promise<InstanceDoc | null> {
  if (delivered.endpoint_id !== defaultEndpointId) return null;
  return activatePendingInstance(db, delivered.instance_id, {
    eventId: delivered.event_id,
    siteUrl: sentToSite,
  });
}
