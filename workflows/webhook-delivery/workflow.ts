import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { WebhookActivities } from '../../activities/webhooks';
import { deferralDelayMs, nextAttemptAt } from '../../src/webhooks/backoff';
import {
  type DeliveryState,
  deliveryFailures,
  deliveryPatches,
  deliveryStateQueryName,
  type WebhookDeliveryInput,
  type WebhookDeliveryResult,
} from './contract';

// One webhook event to one endpoint, until it is delivered, refused for good (410), made redundant, or
// out of retries (dead letter). The workflow id comes from (event, endpoint), so duplicates collapse;
// the event and its id are the same on every attempt. Times come from activity results (recorded in
// history), never from the workflow's own clock.

export const deliveryStateQuery = defineQuery<DeliveryState>(deliveryStateQueryName);

// The POST has its own 30 s limit; the rest is MongoDB. Activity retries cover a worker lost mid-attempt
// or a database blip; the delivery's own schedule covers the receiver.
const { attemptWebhookDelivery } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '45 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 5,
  },
});

// Writing the end of a delivery must eventually happen: retried without limit.
const { endWebhookDelivery } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Past its window with no attempt at all (a host paused for days): give up a day later. */
const neverAttemptedGraceMs = 24 * 3600_000;

export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
  const visible = patched(deliveryPatches.visibleAttempts);
  const info = workflowInfo();
  const deadline = info.startTime.getTime() + input.schedule.window_ms;
  let attempts = input.carried?.attempts ?? 0;
  let deferrals = input.carried?.deferrals ?? 0;
  let clock = input.carried?.clock_ms ?? info.runStartTime.getTime();
  let nextAttemptAtMs: number | undefined;
  let hostHint: string | undefined;
  setHandler(deliveryStateQuery, () => ({
    attempts,
    deferrals,
    ...(nextAttemptAtMs ? { next_attempt_at: new Date(nextAttemptAtMs).toISOString() } : {}),
  }));

  const exhausted = async (reason: string): Promise<WebhookDeliveryResult> => {
    const status = input.schedule.on_exhausted === 'fail' ? 'failed' : 'dead_lettered';
    await endWebhookDelivery({ delivery_id: input.delivery_id, status, reason });
    // A dead letter is a failure an operator should see in Temporal UI, not a green "Completed".
    if (visible)
      throw ApplicationFailure.nonRetryable(`${status}: ${reason}`, deliveryFailures.exhausted, { attempts });
    return { status, attempts, reason };
  };

  for (;;) {
    let result: Awaited<ReturnType<WebhookActivities['attemptWebhookDelivery']>>;
    try {
      const request = {
        delivery_id: input.delivery_id,
        run_id: info.firstExecutionRunId,
        attempt: attempts + 1,
        ...(hostHint ? { host_hint: hostHint } : {}),
      };
      result = visible
        ? await attemptWebhookDelivery.executeWithOptions({ summary: `Attempt ${attempts + 1}` }, [request])
        : await attemptWebhookDelivery(request);
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      // The attempt itself could not run (database down, worker lost): it may have sent, so it counts.
      result = { kind: 'failed', error: 'attempt could not complete', now_ms: clock };
    }
    clock = Math.max(clock, result.now_ms);
    hostHint = result.host ?? hostHint;

    if (result.kind === 'delivered') return { status: 'delivered', attempts: attempts + 1 };
    if (result.kind === 'ended') return { status: result.status, attempts, reason: result.reason };

    if (result.kind === 'deferred') {
      // Not an attempt: the receiver's host is busy or backing off. Wait without spending a retry.
      if (attempts > 0 ? clock >= deadline : clock >= deadline + neverAttemptedGraceMs) {
        return exhausted(`receiver host kept backing off (${result.reason})`);
      }
      const pause = deferralDelayMs(
        result.reason,
        deferrals,
        result.retry_at_ms - result.now_ms,
        Math.random(),
      );
      deferrals += 1;
      nextAttemptAtMs = clock + pause;
      await (visible
        ? sleep(pause, { summary: `Receiver host busy: wait before attempt ${attempts + 1}` })
        : sleep(pause));
      clock += pause;
    } else {
      attempts += 1;
      deferrals = 0;
      const next = nextAttemptAt(
        input.schedule,
        attempts,
        clock,
        deadline,
        Math.random(),
        result.retry_after_ms,
      );
      if (next === undefined) return exhausted(`no success after ${attempts} attempts: ${result.error}`);
      nextAttemptAtMs = next;
      await (visible
        ? sleep(next - clock, { summary: `Retry: attempt ${attempts + 1}` })
        : sleep(next - clock));
      clock = next;
    }

    const current = workflowInfo();
    if (current.continueAsNewSuggested || current.historyLength > 2_000) {
      await continueAsNew<typeof webhookDeliveryWorkflow>({
        ...input,
        carried: { attempts, deferrals, clock_ms: clock },
      });
    }
  }
}
