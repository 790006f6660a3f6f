// Failed plugin authentications, counted per (client address, instance id) in a one-minute window.
// Past the limit, that address gets 429 for that instance until the window ends, before its token is
// even looked at: guessing a token stops, and other instances behind the same address (a shared
// WordPress host) are not held up. Each API process counts on its own, so N processes allow N times
// the limit, which is still no brute force.

const maxTracked = 100_000;

export class AuthFailureLimiter {
  private window = -1;
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the window ends when this caller is over the limit, else undefined. */
  blockedFor(address: string, instanceId: string): number | undefined {
    this.roll();
    if ((this.failures.get(`${address}\n${instanceId}`) ?? 0) < this.limit) return undefined;
    return Math.max(1, Math.ceil(((this.window + 1) * this.windowMs - this.now()) / 1000));
  }

  noteFailure(address: string, instanceId: string): void {
    this.roll();
    if (this.failures.size >= maxTracked) this.failures.clear();
    const key = `${address}\n${instanceId}`;
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
  }

  private roll(): void {
    const window = Math.floor(this.now() / this.windowMs);
    if (window !== this.window) {
      this.window = window;
      this.failures.clear();
    }
  }
}
