import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { loggableBody } from '../../src/webhooks/attempt';
import { endpointUrlProblem, forbiddenAddressReason } from '../../src/webhooks/ip-policy';
import { type Resolver, safePost } from '../../src/webhooks/safe-post';
import { type Receiver, startReceiver } from './receiver';

const post = (url: string, options: { allow?: boolean; resolve?: Resolver; timeoutMs?: number } = {}) =>
  safePost({
    url,
    body: '{"id":"evt_x"}',
    headers: { 'Content-Type': 'application/json' },
    allowPrivateNetworks: options.allow ?? false,
    resolve: options.resolve,
    timeoutMs: options.timeoutMs ?? 2_000,
  });

const answers =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('SSRF-safe webhook sender', () => {
  let site: Receiver;
  before(async () => {
    site = await startReceiver();
  });
  after(() => site.close());

  it('classifies private, loopback, link-local, CGNAT, ULA, mapped and metadata addresses', () => {
    const refused = [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '169.254.169.254',
      '169.254.10.10',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fc00::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:8.8.8.8',
      '224.0.0.1',
      '255.255.255.255',
      // IPv4-compatible (::/96), IPv4-translated (::ffff:0:0:0/96), Teredo and 6to4: all reach IPv4.
      '::127.0.0.1',
      '::7f00:1',
      '::ffff:0:7f00:1',
      '::ffff:0:a00:1',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      '2002:7f00:1::1',
    ];
    for (const address of refused) assert.ok(forbiddenAddressReason(address), `${address} must be refused`);
    assert.match(forbiddenAddressReason('169.254.169.254')!, /metadata/);
    assert.match(forbiddenAddressReason('fd00:ec2::254')!, /metadata/);
    for (const address of ['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111']) {
      assert.equal(forbiddenAddressReason(address), undefined, `${address} is public`);
    }
  });

  it('refuses the cloud metadata service, by literal and by name, and never connects', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/']) {
      const result = await post(url);
      assert.equal(result.kind, 'refused', url);
      assert.match((result as { reason: string }).reason, /metadata/);
    }
    const byName = await post('http://metadata.internal/', { resolve: answers('169.254.169.254') });
    assert.equal(byName.kind, 'refused');
  });

  it('refuses loopback and decimal-encoded loopback unless private networks are allowed', async () => {
    assert.equal((await post(`${site.url}/`)).kind, 'refused');
    assert.equal((await post(`http://2130706433:${site.port}/`)).kind, 'refused');
    assert.equal((await post(`http://[::ffff:127.0.0.1]:${site.port}/`)).kind, 'refused');
    assert.equal(site.received.length, 0);
    const allowed = await post(`${site.url}/`, { allow: true });
    assert.equal(allowed.kind, 'response');
    assert.equal(site.received.length, 1);
  });

  it('refuses a name whose answer mixes a public and a private address', async () => {
    const result = await post(`http://mixed.example:${site.port}/`, {
      resolve: answers('93.184.216.34', '127.0.0.1'),
    });
    assert.equal(result.kind, 'refused');
    assert.match((result as { reason: string }).reason, /loopback/);
  });

  it('DNS rebinding: public on the check, private afterwards; the connection stays on the checked address', async () => {
    const calls: string[] = [];
    // 192.0.2.0/24 is refused, so the "public" address here is a routable one that is not ours.
    const rebinding: Resolver = async (hostname) => {
      calls.push(hostname);
      return calls.length === 1
        ? [{ address: '203.0.114.7', family: 4 }]
        : [{ address: '127.0.0.1', family: 4 }];
    };
    const before = site.received.length;
    const result = await post(`http://rebind.example:${site.port}/`, {
      resolve: rebinding,
      timeoutMs: 1_000,
    });
    assert.equal(calls.length, 1, 'resolved once, for the check');
    assert.equal(result.kind, 'failed', 'it went to the public address (unreachable here), not to loopback');
    assert.equal((result as { address?: string }).address, '203.0.114.7');
    assert.equal(site.received.length, before, 'the loopback receiver never saw it');
    assert.doesNotMatch(
      (result as { error: string }).error,
      /lookup|Invalid IP/i,
      'a connect failure, not DNS',
    );
  });

  it('connects by name through the pinned address (Host header keeps the name)', async () => {
    const calls: string[] = [];
    const pinned: Resolver = async (hostname) => {
      calls.push(hostname);
      return calls.length === 1
        ? [{ address: '127.0.0.1', family: 4 }]
        : [{ address: '10.0.0.1', family: 4 }];
    };
    const result = await post(`http://plugin-site.test:${site.port}/hook`, { allow: true, resolve: pinned });
    assert.equal(result.kind, 'response');
    assert.deepEqual(calls, ['plugin-site.test']);
    assert.equal(site.received.at(-1)!.headers.host, `plugin-site.test:${site.port}`);
  });

  it('does not follow redirects, keeps 2 KB of the answer, and times out a silent receiver', async () => {
    const target = await startReceiver();
    const redirecting = await startReceiver(() => ({ status: 302, headers: { Location: `${target.url}/` } }));
    const chatty = await startReceiver(() => ({ status: 500, body: 'y'.repeat(10_000) }));
    const silent = await startReceiver(() => 'hold');
    try {
      const redirect = await post(`${redirecting.url}/`, { allow: true });
      assert.equal(redirect.kind === 'response' && redirect.status, 302);
      assert.equal(target.received.length, 0, 'redirect not followed');
      const long = await post(`${chatty.url}/`, { allow: true });
      assert.equal(long.kind === 'response' && long.body.length, 2048);
      const started = Date.now();
      const timeout = await post(`${silent.url}/`, { allow: true, timeoutMs: 300 });
      assert.equal(timeout.kind, 'failed');
      assert.equal((timeout as { timedOut: boolean }).timedOut, true);
      assert.ok(Date.now() - started < 2_000);
    } finally {
      for (const receiver of [target, redirecting, chatty, silent]) await receiver.close();
    }
  });

  it("the attempt log keeps the answer of a public address only (never an internal service's)", () => {
    assert.deepEqual(loggableBody({ body: 'wp error', address: '93.184.216.34' }), {
      response_body: 'wp error',
    });
    for (const address of ['127.0.0.1', '10.0.0.5', '169.254.169.254', '::1', 'fd00::1']) {
      assert.deepEqual(loggableBody({ body: 'internal secret', address }), {}, address);
    }
  });

  it('checks endpoint URLs at registration: scheme, credentials, literal private hosts', () => {
    assert.match(endpointUrlProblem('ftp://example.com/x', false)!, /http/);
    assert.match(endpointUrlProblem('https://user:pw@example.com/', false)!, /credentials/);
    assert.match(endpointUrlProblem('http://localhost:8080/', false)!, /loopback/);
    assert.match(endpointUrlProblem('http://[::1]/', false)!, /loopback/);
    assert.match(endpointUrlProblem('http://169.254.169.254/', false)!, /metadata/);
    assert.equal(endpointUrlProblem('https://shop.example.jp/hooks', false), undefined);
    assert.equal(endpointUrlProblem('http://127.0.0.1:9000/', true), undefined);
  });
});
