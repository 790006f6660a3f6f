import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  ChargeObject,
  CheckoutSessionObject,
  DisputeObject,
  EventObject,
  PaymentIntentObject,
  RefundObject,
  SandboxObject,
  SessionInternals,
} from './objects';

/** A cached answer to a POST with an Idempotency-Key. */
export interface IdempotentResponse {
  fingerprint: string;
  status: number;
  body: string;
}

export interface SandboxState {
  /** Creation order; `created` has one-second resolution and lists must be stable. */
  sequence: number;
  order: Record<string, number>;
  sessions: Record<string, CheckoutSessionObject>;
  sessionInternals: Record<string, SessionInternals>;
  paymentIntents: Record<string, PaymentIntentObject>;
  /** PaymentIntent id → the Checkout Session that made it. */
  sessionByPaymentIntent: Record<string, string>;
  charges: Record<string, ChargeObject>;
  refunds: Record<string, RefundObject>;
  disputes: Record<string, DisputeObject>;
  events: Record<string, EventObject>;
  idempotency: Record<string, IdempotentResponse>;
}

const emptyState = (): SandboxState => ({
  sequence: 0,
  order: {},
  sessions: {},
  sessionInternals: {},
  paymentIntents: {},
  sessionByPaymentIntent: {},
  charges: {},
  refunds: {},
  disputes: {},
  events: {},
  idempotency: {},
});

type Collection = 'sessions' | 'paymentIntents' | 'charges' | 'refunds' | 'disputes';

const collectionByPrefix: Array<[string, Collection]> = [
  ['cs_', 'sessions'],
  ['pi_', 'paymentIntents'],
  ['ch_', 'charges'],
  ['re_', 'refunds'],
  ['du_', 'disputes'],
];

/** In-memory state, written to a JSON file after changes when a path is given. */
export class SandboxStore {
  state: SandboxState;
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(private readonly stateFile?: string) {
    this.state = stateFile && existsSync(stateFile) ? this.load(stateFile) : emptyState();
  }

  private load(file: string): SandboxState {
    return { ...emptyState(), ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<SandboxState>) };
  }

  /** Registers a new object in creation order and stores it. */
  add<K extends Collection>(collection: K, object: SandboxState[K][string]): void {
    this.state.sequence += 1;
    this.state.order[object.id] = this.state.sequence;
    (this.state[collection] as Record<string, SandboxObject>)[object.id] = object;
    this.changed();
  }

  addEvent(event: EventObject): void {
    this.state.sequence += 1;
    this.state.order[event.id] = this.state.sequence;
    this.state.events[event.id] = event;
    this.changed();
  }

  /** Any object by id, found from its prefix. */
  find(id: string): SandboxObject | undefined {
    const entry = collectionByPrefix.find(([prefix]) => id.startsWith(prefix));
    if (!entry) return undefined;
    return (this.state[entry[1]] as Record<string, SandboxObject>)[id];
  }

  /** Newest first, as Stripe lists. */
  newestFirst<T extends { id: string }>(objects: Record<string, T>): T[] {
    return Object.values(objects).sort(
      (a, b) => (this.state.order[b.id] ?? 0) - (this.state.order[a.id] ?? 0),
    );
  }

  reset(): void {
    this.state = emptyState();
    this.changed();
  }

  /** Coalesces bursts of changes into one write; the rename keeps the file whole on a crash. */
  changed(): void {
    if (!this.stateFile || this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.flush(), 50);
    this.saveTimer.unref();
  }

  flush(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (!this.stateFile) return;
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const temporary = `${this.stateFile}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.state));
    renameSync(temporary, this.stateFile);
  }
}
