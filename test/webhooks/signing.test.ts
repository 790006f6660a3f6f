import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { newWebhookSecret } from '../../src/tenancy/credentials';
import { signWebhook } from '../../src/webhooks/signing';
import { verifyRakubunSignature, verifyStandardWebhook } from './independent-verifier';

describe('webhook signatures, checked by an independent verifier', () => {
  const body = JSON.stringify({
    id: 'evt_1',
    event: 'credits_updated',
    created_at: '2025-01-01T00:00:00.000Z',
    instance_id: 'site-1',
    data: { user_id: 7, ledger_seq: 3, note: 'ユーザー' },
  });
  // Taken before each test, not when the file loads: the verifier refuses timestamps 5 minutes old,
  // and a whole suite can take longer than that to reach these tests.
  let now = 0;
  beforeEach(() => {
    now = Math.floor(Date.now() / 1000);
  });

  it('X-Rakubun-Signature is the hex HMAC of the raw body under the whole secret', () => {
    const secret = newWebhookSecret();
    const headers = signWebhook({ secret }, 'evt_1', now, body);
    assert.match(headers['X-Rakubun-Signature'], /^[0-9a-f]{64}$/);
    assert.ok(verifyRakubunSignature(secret, body, headers['X-Rakubun-Signature']));
    assert.ok(!verifyRakubunSignature(secret, `${body} `, headers['X-Rakubun-Signature']), 'body is covered');
    assert.ok(!verifyRakubunSignature(newWebhookSecret(), body, headers['X-Rakubun-Signature']));
  });

  it('webhook-signature verifies per Standard Webhooks, and covers id and timestamp', () => {
    const secret = newWebhookSecret();
    const headers = signWebhook({ secret }, 'evt_1', now, body);
    assert.equal(headers['webhook-id'], 'evt_1');
    assert.equal(headers['webhook-timestamp'], String(now));
    assert.match(headers['webhook-signature'], /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.ok(verifyStandardWebhook(secret, body, headers));
    assert.ok(!verifyStandardWebhook(secret, body, { ...headers, 'webhook-id': 'evt_2' }));
    assert.ok(!verifyStandardWebhook(secret, body, { ...headers, 'webhook-timestamp': String(now + 1) }));
    assert.ok(!verifyStandardWebhook(secret, body, headers, now + 3600), 'stale timestamps are refused');
  });

  it('during a rotation grace period both secrets sign, space-separated', () => {
    const previous = newWebhookSecret();
    const current = newWebhookSecret();
    const headers = signWebhook({ secret: current, previous_secret: previous }, 'evt_9', now, body);
    assert.equal(headers['webhook-signature'].split(' ').length, 2);
    assert.ok(verifyStandardWebhook(current, body, headers), 'a receiver with the new secret');
    assert.ok(verifyStandardWebhook(previous, body, headers), 'a receiver still on the old secret');
    assert.ok(verifyRakubunSignature(current, body, headers['X-Rakubun-Signature']));
    assert.ok(!verifyStandardWebhook(`whsec_${randomBytes(32).toString('base64')}`, body, headers));
  });
});
