import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadConfig } from '../../src/config';
import { deferralDelayMs, nextAttemptAt, retryDelayMs } from '../../src/webhooks/backoff';
import {
  maxRememberedFastHosts,
  parseRetryAfter,
  ReceiverPacer,
  verdictForStatus,
} from '../../src/webhooks/receiver-pacing';
import { deliverySchedule } from '../../src/webhooks/retry-schedule';

describe('webhook retry schedule and receiver pacing', () => {
  const schedule = deliverySchedule(loadConfig({}));
  const day = 24 * 3600_000;

  it('first retry within 10 s; growing, jittered pauses', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (random) => {
        const first = retryDelayMs(schedule, 1, random);
        assert.ok(first >= 3_750 && first <= 6_250 && first <= 10_000, `first retry ${first}`);
        assert.ok(retryDelayMs(schedule, 5, random) > retryDelayMs(schedule, 2, random));
      }),
    );
    assert.notEqual(retryDelayMs(schedule, 3, 0.1), retryDelayMs(schedule, 3, 0.9), 'jittered');
  });

  it('keeps retrying for 3 days, lands a last attempt on the deadline, then stops', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 40, maxLength: 40 }),
        (randoms) => {
          let now = 0;
          let failures = 0;
          const deadline = schedule.window_ms;
          for (;;) {
            failures += 1;
            const next = nextAttemptAt(
              schedule,
              failures,
              now,
              deadline,
              randoms[failures % randoms.length]!,
            );
            if (next === undefined) break;
            assert.ok(next > now && next <= deadline);
            now = next;
          }
          assert.equal(now, deadline, 'the last attempt is at 3 days');
          assert.ok(now >= 3 * day);
          assert.ok(failures < 30, `${failures} attempts in 3 days`);
        },
      ),
    );
  });

  it('honours Retry-After (up to 12 h), and a one-shot schedule never retries', () => {
    assert.equal(retryDelayMs(schedule, 1, 0.5, 120_000), 120_000);
    assert.equal(retryDelayMs(schedule, 1, 0.5, 10 * day), 12 * 3600_000);
    assert.equal(parseRetryAfter('120', 0), 120_000);
    assert.equal(parseRetryAfter(new Date(60_000).toUTCString(), 0), 60_000);
    assert.equal(parseRetryAfter('soon', 0), undefined);
    const oneShot = { retry_delays_ms: [], window_ms: 0, jitter: 0, on_exhausted: 'fail' as const };
    assert.equal(nextAttemptAt(oneShot, 1, 0, 0, 0.5), undefined);
  });

  it('deferrals: short for a busy host, growing up to ~15 min for one backing off', () => {
    assert.ok(deferralDelayMs('busy', 0, 0, 0) >= 100 && deferralDelayMs('busy', 0, 0, 1) <= 300);
    assert.ok(deferralDelayMs('busy', 40, 0, 1) <= 3_000);
    assert.ok(deferralDelayMs('backing_off', 0, 0, 0) >= 500);
    assert.ok(deferralDelayMs('backing_off', 0, 30_000, 0) >= 30_000);
    assert.ok(deferralDelayMs('backing_off', 6, 0, 0) > deferralDelayMs('backing_off', 2, 0, 0));
    assert.ok(deferralDelayMs('backing_off', 40, 0, 1) <= 15 * 60_000 * 1.25);
  });

  it('caps requests in flight per host, halves the cap on overload, and recovers one step per success', () => {
    let now = 1_000_000;
    const pacer = new ReceiverPacer(4, () => now);
    const leases = [1, 2, 3, 4].map(() => pacer.tryAcquire('slow.example'));
    assert.ok(leases.every((lease) => lease.granted));
    const fifth = pacer.tryAcquire('slow.example');
    assert.equal(fifth.granted, false);
    assert.equal(!fifth.granted && fifth.reason, 'busy');
    assert.ok(pacer.tryAcquire('healthy.example').granted, 'other hosts are not affected');

    for (const lease of leases) if (lease.granted) lease.lease.release('overloaded');
    const paused = pacer.tryAcquire('slow.example');
    assert.equal(!paused.granted && paused.reason, 'backing_off');
    assert.equal(pacer.snapshot('slow.example')!.limit, 1);

    now += 120_000;
    const probe = pacer.tryAcquire('slow.example');
    assert.ok(probe.granted);
    assert.equal(pacer.tryAcquire('slow.example').granted, false, 'one at a time while recovering');
    probe.lease.release('ok');
    assert.equal(pacer.snapshot('slow.example')!.limit, 2, 'recovers gradually');

    const limited = pacer.tryAcquire('busy.example');
    if (limited.granted) limited.lease.release('overloaded', 90_000);
    const honoured = pacer.tryAcquire('busy.example');
    assert.equal(!honoured.granted && honoured.retryAtMs, now + 90_000, 'Retry-After sets the pause');
  });

  it('gives a host that answers quickly more at once, up to the fast cap; slow answers take it back', () => {
    let now = 1_000_000;
    const pacer = new ReceiverPacer(4, () => now, { maxConcurrency: 8, answerMs: 50 });
    /** Takes every slot the host has now, answers them all after `tookMs`: how many there were. */
    const round = (host: string, tookMs: number) => {
      const leases = [];
      for (let decision = pacer.tryAcquire(host); decision.granted; decision = pacer.tryAcquire(host))
        leases.push(decision.lease);
      now += tookMs;
      for (const lease of leases) lease.release('ok');
      return leases.length;
    };
    assert.equal(round('fast.example', 5), 4, 'a host starts at the base cap');
    assert.equal(round('fast.example', 5), 8, 'quick answers: one more slot each, up to the fast cap');
    assert.equal(round('fast.example', 5), 8, 'never past the fast cap');
    assert.equal(round('fast.example', 200), 8);
    // Slow answers: one slot less each, down to the base cap, where an idle host is forgotten.
    assert.equal(pacer.snapshot('fast.example'), undefined);
    assert.equal(round('fast.example', 200), 4);
    for (let i = 0; i < 5; i += 1) assert.equal(round('slow.example', 51), 4, 'a slow host never gets more');

    round('fast.example', 5);
    const grown = pacer.tryAcquire('fast.example');
    if (grown.granted) grown.lease.release('overloaded');
    assert.equal(pacer.snapshot('fast.example')!.limit, 4, 'an overload halves what it had grown to');
  });

  it('remembers at most so many grown hosts: past that, an idle one starts again from the base cap', () => {
    const pacer = new ReceiverPacer(1, () => 0, { maxConcurrency: 2, answerMs: 50 });
    const grow = (host: string) => {
      const first = pacer.tryAcquire(host);
      if (first.granted) first.lease.release('ok');
    };
    for (let i = 0; i <= maxRememberedFastHosts; i += 1) grow(`site-${i}.example`);
    assert.equal(pacer.snapshot('site-0.example')?.limit, 2, 'a grown host is remembered');
    grow('one-too-many.example');
    assert.equal(pacer.snapshot('one-too-many.example'), undefined, 'past the bound it is not');
  });

  it('only 408, 425, 429 and 5xx count as overload', () => {
    assert.equal(verdictForStatus(204), 'ok');
    for (const status of [408, 425, 429, 500, 503]) assert.equal(verdictForStatus(status), 'overloaded');
    for (const status of [301, 400, 404, 410]) assert.equal(verdictForStatus(status), 'neutral');
  });
});
