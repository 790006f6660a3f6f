import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Answer, ReceivedWebhook } from '../webhooks/receiver';

// A receiver that answers as the plugin's webhook handler does
// (includes/class-rakubun-ai-webhook-handler.php handle_webhook()): 401 when X-Rakubun-Signature is
// not the hex HMAC-SHA256 of the raw body under the stored secret, 400 for a body that is not JSON
// or an event it does not know, 500 when its handler fails (credits_updated without data.user_email),
// 200 otherwise.

export const pluginEvents = [
  'config_updated',
  'credits_updated',
  'plugin_disabled',
  'plugin_enabled',
  'package_updated',
  'test_webhook',
] as const;

export function pluginWebhookHandler(secret: () => string) {
  return (webhook: ReceivedWebhook): Answer => {
    const expected = createHmac('sha256', secret()).update(webhook.body).digest('hex');
    const given = String(webhook.headers['x-rakubun-signature'] ?? '');
    const valid =
      given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
    if (!valid) return { status: 401, body: '{"success":false,"data":{"message":"Invalid signature"}}' };
    if (!webhook.json) return { status: 400, body: '{"success":false,"data":{"message":"Invalid JSON"}}' };
    const event = webhook.json.event;
    if (!(pluginEvents as readonly string[]).includes(event)) {
      return { status: 400, body: '{"success":false,"data":{"message":"Unknown event"}}' };
    }
    if (event === 'credits_updated' && !webhook.json.data?.user_email) {
      return { status: 500, body: '{"success":false,"data":{"message":"Failed to process webhook"}}' };
    }
    return { status: 200, body: '{"success":true,"data":{"message":"Webhook processed"}}' };
  };
}
