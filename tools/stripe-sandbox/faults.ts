import { SandboxApiError } from './api-error';

/** A failure to inject into the next `remaining` API calls whose path starts with `pathPrefix`. */
export interface Fault {
  status?: number;
  delayMs?: number;
  pathPrefix: string;
  remaining: number;
}

/** Lets tests see how callers handle Stripe outages, rate limits and slow answers. */
export class FaultInjector {
  private faults: Fault[] = [];

  add(fault: Fault): void {
    this.faults.push(fault);
  }

  clear(): void {
    this.faults = [];
  }

  list(): Fault[] {
    return this.faults.map((fault) => ({ ...fault }));
  }

  /** Waits and/or throws as the first matching fault says, using it up once. */
  async apply(path: string): Promise<void> {
    const fault = this.faults.find(
      (candidate) => candidate.remaining > 0 && path.startsWith(candidate.pathPrefix),
    );
    if (!fault) return;
    fault.remaining -= 1;
    this.faults = this.faults.filter((candidate) => candidate.remaining > 0);
    if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (!fault.status) return;
    if (fault.status === 429) {
      throw new SandboxApiError(
        429,
        'invalid_request_error',
        'Too many requests hit the API too quickly.',
        'rate_limit',
      );
    }
    throw new SandboxApiError(fault.status, 'api_error', `Injected fault: HTTP ${fault.status}.`);
  }
}
