import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { welcomeGrants } from '../credits/rules';
import type { Logger } from '../logger';
import { createAccountQueue } from './account-queue';
import { markWelcomeDone, openAccount, storeEmail } from './accounts';
import { type AppendRequest, appendEntry } from './append';
import { GrantNotFoundError, InsufficientCreditsError } from './errors';
import { accountIdOf, fingerprint, normaliseUserId } from './ids';
import { seenAccounts } from './seen-accounts';
import { advanceCache, confirmLatest, ledgerStore, normaliseBalances, rollForward } from './store';
import type {
  AccountHead,
  AccountRef,
  Balances,
  EntryKind,
  GrantExpiryInput,
  LedgerEntry,
  LedgerResult,
} from './types';

export interface LedgerOptions {
  db: Db;
  creditTypes: readonly string[];
  /** Credits a new account gets, per type; types left out get none. */
  welcomeCredits?: Record<string, number>;
  welcomeExpiresInDays?: number;
  /**
   * Called after every grant that expires is written or replayed; it must make sure the expiry
   * happens (the app starts the `grant-expiry:<transaction_id>` workflow). Idempotent.
   */
  onExpiringGrant?: (entry: LedgerEntry) => Promise<void>;
  /** Attempts at the next seq before giving up with LedgerBusyError. */
  maxAttempts?: number;
  /** Queue this process's writes per account (default true); false makes every call race (tests). */
  localQueue?: boolean;
  now?: () => Date;
  logger?: Logger;
}

/** Options every write takes. Without `idempotency_key` the write is a new one each time. */
interface WriteOptions {
  idempotency_key?: string;
  /** Fingerprint of the caller's request (e.g. the HTTP body); defaults to one of the operation. */
  request_hash?: string;
  reason?: string;
  ref?: string;
}

export interface DeductInput extends AccountRef, WriteOptions {
  credit_type: string;
  amount: number;
  /** The API request that spent them, recorded on the entry. */
  request_id?: string;
}

export interface GrantInput extends AccountRef, WriteOptions {
  credit_type: string;
  amount: number;
  kind?: Extract<EntryKind, 'grant' | 'purchase'>;
  expires_at?: Date;
}

export interface AdjustInput extends AccountRef, WriteOptions {
  credit_type: string;
  /** Non-zero; a negative adjustment never takes a balance below zero. */
  delta: number;
  /** Only for positive adjustments: they then expire like grants. */
  expires_at?: Date;
  /** Recorded on the entry: the operator who asked and the request id of their call. */
  operator?: string;
  request_id?: string;
}

/** Refunds and dispute holds take credits back even when they were spent: the balance may go negative. */
export interface ClawbackInput extends AccountRef, WriteOptions {
  credit_type: string;
  amount: number;
}

export type Ledger = ReturnType<typeof createLedger>;

/** An opened account's head, and the email a write stores once it is made (accounts.ts). */
interface Opened {
  head: AccountHead;
  pendingEmail?: string;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
}

export function createLedger(options: LedgerOptions) {
  const store = ledgerStore(options.db, options.creditTypes);
  const now = options.now ?? (() => new Date());
  if (options.welcomeExpiresInDays && !options.onExpiringGrant) {
    throw new Error('welcomeExpiresInDays needs onExpiringGrant: nothing would expire the welcome grants');
  }
  const queue = options.localQueue === false ? undefined : createAccountQueue();
  const recentHeads = new Map<string, AccountHead>();
  const seen = seenAccounts();
  const welcome = welcomeGrants(options.welcomeCredits);
  const appendOptions = {
    maxAttempts: options.maxAttempts ?? 100,
    now,
    onCacheError: (error: unknown) => options.logger?.warn({ err: error }, 'ledger cache update failed'),
  };

  function checkType(creditType: string): void {
    if (!options.creditTypes.includes(creditType)) throw new RangeError(`Unknown credit type: ${creditType}`);
  }

  async function afterGrant(result: LedgerResult): Promise<LedgerResult> {
    if (result.entry.expires_at && result.entry.delta > 0) await options.onExpiringGrant?.(result.entry);
    return result;
  }

  /** Opens the account (welcome grants on first sight) and returns a head to append from. */
  async function open(ref: AccountRef): Promise<AccountHead> {
    return (await openFor(ref, false)).head;
  }

  /** `deferEmail`: a changed email is returned as `pendingEmail`, for the write to store once made. */
  async function openFor(ref: AccountRef, deferEmail: boolean): Promise<Opened> {
    const { account, head, pendingEmail } = await openAccount(store, ref, welcome.length > 0, now(), {
      deferEmail,
    });
    const email = pendingEmail ? account.user_email : (ref.user_email ?? account.user_email);
    const opened = (latest: AccountHead): Opened => ({
      head: latest,
      ...(pendingEmail ? { pendingEmail } : {}),
    });
    if (account.welcome_done) {
      seen.remember(head, email);
      return opened(head);
    }
    let latest = head;
    for (const [creditType, amount] of welcome) {
      const expiresAt = options.welcomeExpiresInDays
        ? new Date(account.created_at.getTime() + options.welcomeExpiresInDays * 86_400_000)
        : undefined;
      const result = await appendEntry(
        store,
        {
          ...target(ref, head.account_id),
          kind: 'grant',
          credit_type: creditType,
          idempotency_key: `welcome:${head.account_id}:${creditType}`,
          fresh_key: false,
          // Amount left out: a changed WELCOME_CREDITS must not make old welcomes conflict.
          request_hash: fingerprint({ kind: 'grant', welcome: creditType }),
          reason: 'welcome',
          ...(expiresAt ? { expires_at: expiresAt } : {}),
          delta: () => amount,
        },
        latest,
        appendOptions,
      );
      await afterGrant(result);
      if (result.entry.seq > latest.seq) {
        latest = { account_id: head.account_id, seq: result.entry.seq, balances: result.balances };
      }
    }
    await markWelcomeDone(store, head.account_id);
    seen.remember(latest, email);
    return opened(latest);
  }

  /**
   * Without welcome grants, an account nobody opened holds nothing: a spend from it (a deduction, a
   * negative adjustment) is refused before its account document is written, so a refused first
   * request leaves no trace. No account document means no entries (accounts.ts), so zero is exact.
   */
  async function openUnlessRefused(ref: AccountRef, delta: AppendRequest['delta']): Promise<Opened> {
    if (welcome.length === 0) {
      const accountId = accountIdOf(ref.instance_id, ref.user_id);
      const known = await store.accounts.findOne({ _id: accountId }, { projection: { _id: 1 } });
      if (!known) delta(normaliseBalances({}, store.creditTypes));
    }
    return openFor(ref, true);
  }

  function target(ref: AccountRef, accountId: string) {
    return { account_id: accountId, instance_id: ref.instance_id, user_id: normaliseUserId(ref.user_id) };
  }

  async function write(
    ref: AccountRef,
    keyed: WriteOptions,
    operation: Omit<
      AppendRequest,
      'account_id' | 'instance_id' | 'user_id' | 'idempotency_key' | 'fresh_key' | 'request_hash'
    > & {
      hashed: Record<string, unknown>;
    },
  ): Promise<LedgerResult> {
    checkType(operation.credit_type);
    const { hashed, ...rest } = operation;
    const accountId = accountIdOf(ref.instance_id, ref.user_id);
    const appendNow = async () => {
      // A write queued behind another starts from the head that one left: no read needed.
      const cached = recentHeads.get(accountId) ?? seen.headFor(accountId, ref);
      const { head, pendingEmail }: Opened = cached
        ? { head: cached }
        : await openUnlessRefused(ref, rest.delta);
      const queuedBehind = queue?.waitingFor(accountId) ?? 0;
      try {
        const result = await appendEntry(
          store,
          {
            ...target(ref, accountId),
            ...rest,
            idempotency_key: keyed.idempotency_key ?? `txn:${randomUUID()}`,
            fresh_key: keyed.idempotency_key === undefined,
            request_hash:
              keyed.request_hash ?? fingerprint({ ...hashed, reason: keyed.reason, ref: keyed.ref }),
            ...(keyed.reason !== undefined ? { reason: keyed.reason } : {}),
            ...(keyed.ref !== undefined ? { ref: keyed.ref } : {}),
          },
          head,
          // The cache moves on every 4th entry: a write costs its insert and a quarter of an update,
          // and a reader that starts from the cache reads forward at most 3 entries (readers that
          // served the account before start from the head they saw, seen-accounts.ts).
          { ...appendOptions, updateCache: (seq) => seq % 4 === 0 },
        );
        rememberHead(accountId, result, queuedBehind);
        if (pendingEmail) await storeEmail(store, accountId, pendingEmail);
        seen.remember(
          { account_id: accountId, seq: result.entry.seq, balances: result.balances },
          pendingEmail,
        );
        return result;
      } catch (error) {
        const written = recentHeads.get(accountId);
        // A refusal was decided on a head just confirmed as the latest: the next queued write can
        // start from it rather than read again.
        const confirmed =
          error instanceof InsufficientCreditsError && error.seq !== undefined
            ? { account_id: accountId, seq: error.seq, balances: error.credits }
            : undefined;
        const known = confirmed && (!written || confirmed.seq >= written.seq) ? confirmed : written;
        if (queuedBehind > 0 && known) recentHeads.set(accountId, known);
        else recentHeads.delete(accountId);
        // Writes before this one in the burst left the cache to the last; the last is this one.
        if (written && queuedBehind === 0 && known) {
          await advanceCache(store, known, now()).catch(appendOptions.onCacheError);
        }
        throw error;
      }
    };
    return queue ? queue.run(accountId, appendNow) : appendNow();
  }

  /** Keeps the head for the writes queued right behind; forgets it once the burst is over. */
  function rememberHead(accountId: string, result: LedgerResult, queuedBehind: number): void {
    const head = recentHeads.get(accountId);
    if (queuedBehind === 0) recentHeads.delete(accountId);
    else if (!head || result.entry.seq >= head.seq) {
      recentHeads.set(accountId, { account_id: accountId, seq: result.entry.seq, balances: result.balances });
    }
  }

  function refuseBelowZero(creditType: string, amount: number) {
    return (balances: Balances) => {
      if ((balances[creditType] ?? 0) < amount)
        throw new InsufficientCreditsError(balances, creditType, amount);
      return -amount;
    };
  }

  function requireScheduler(expiresAt: Date | undefined): void {
    if (expiresAt && !options.onExpiringGrant) {
      throw new Error(
        'This ledger cannot schedule expiries (no onExpiringGrant): refusing an expiring grant',
      );
    }
  }

  return {
    creditTypes: options.creditTypes,

    /** The email last seen for an account (webhooks name the user by it), if any. */
    async userEmail(accountId: string): Promise<string | undefined> {
      const account = await store.accounts.findOne({ _id: accountId }, { projection: { user_email: 1 } });
      return account?.user_email;
    },

    /**
     * The exact balances now (GET credits). An account this process has seen costs one point read
     * (that no entry follows the head it saw last); others read the cache document and check that no
     * newer entry exists.
     */
    async balances(ref: AccountRef): Promise<AccountHead> {
      const known = seen.headFor(accountIdOf(ref.instance_id, ref.user_id), ref);
      const fast = known && (await confirmLatest(store, known));
      const head = fast || (await rollForward(store, await open(ref))).head;
      seen.remember(head);
      return head;
    },

    /** Spends credits; never below zero (InsufficientCreditsError, nothing written). */
    deduct(input: DeductInput): Promise<LedgerResult> {
      positiveInteger('amount', input.amount);
      return write(input, input, {
        kind: 'deduct',
        credit_type: input.credit_type,
        ...(input.request_id !== undefined ? { request_id: input.request_id } : {}),
        delta: refuseBelowZero(input.credit_type, input.amount),
        hashed: { kind: 'deduct', credit_type: input.credit_type, amount: input.amount },
      });
    },

    /** Adds credits (a purchase or a free grant), optionally expiring at `expires_at`. */
    async grant(input: GrantInput): Promise<LedgerResult> {
      positiveInteger('amount', input.amount);
      requireScheduler(input.expires_at);
      const kind = input.kind ?? 'grant';
      const result = await write(input, input, {
        kind,
        credit_type: input.credit_type,
        ...(input.expires_at ? { expires_at: input.expires_at } : {}),
        delta: () => input.amount,
        hashed: { kind, credit_type: input.credit_type, amount: input.amount, expires_at: input.expires_at },
      });
      return afterGrant(result);
    },

    /** An operator's correction: up (optionally expiring) or down (never below zero). */
    async adjust(input: AdjustInput): Promise<LedgerResult> {
      if (!Number.isSafeInteger(input.delta) || input.delta === 0)
        throw new RangeError('delta must be a non-zero integer');
      if (input.expires_at && input.delta < 0)
        throw new RangeError('expires_at is only for positive adjustments');
      requireScheduler(input.expires_at);
      const result = await write(input, input, {
        kind: 'adjust',
        credit_type: input.credit_type,
        ...(input.expires_at ? { expires_at: input.expires_at } : {}),
        ...(input.operator !== undefined ? { operator: input.operator } : {}),
        ...(input.request_id !== undefined ? { request_id: input.request_id } : {}),
        delta: input.delta > 0 ? () => input.delta : refuseBelowZero(input.credit_type, -input.delta),
        hashed: {
          kind: 'adjust',
          credit_type: input.credit_type,
          delta: input.delta,
          expires_at: input.expires_at,
        },
      });
      return afterGrant(result);
    },

    refund: (input: ClawbackInput) => clawback('refund', -1, input),
    disputeHold: (input: ClawbackInput) => clawback('dispute_hold', -1, input),
    disputeRelease: (input: ClawbackInput) => clawback('dispute_release', 1, input),

    /**
     * Ends a grant: removes min(granted amount, current balance of that type), never below zero.
     * Keyed by the grant, so the workflow's retries and duplicates expire it once.
     */
    async expireGrant(input: GrantExpiryInput): Promise<LedgerResult> {
      const grant = await store.entries.findOne({ _id: input.grant_entry_id });
      if (!grant || grant.transaction_id !== input.grant_transaction_id || !grant.expires_at) {
        throw new GrantNotFoundError(input.grant_transaction_id);
      }
      if (grant.expires_at.getTime() > now().getTime()) {
        throw new Error(
          `Grant ${grant.transaction_id} expires at ${grant.expires_at.toISOString()}, not yet`,
        );
      }
      return write(
        { instance_id: grant.instance_id, user_id: grant.user_id },
        {
          idempotency_key: `expire:${grant.transaction_id}`,
          request_hash: fingerprint({ kind: 'expire', grant: grant.transaction_id }),
          reason: 'grant expired',
          ref: grant.transaction_id,
        },
        {
          kind: 'expire',
          credit_type: grant.credit_type,
          // `0 - x` rather than `-x`: nothing left to expire is a delta of 0, not -0.
          delta: (balances) => 0 - Math.min(grant.delta, Math.max(0, balances[grant.credit_type] ?? 0)),
          hashed: {},
        },
      );
    },

    /** Credits refunds have taken back from the purchase `ref` so far (the ledger's own record). */
    async creditsRefunded(ref: string): Promise<number> {
      const refunds = await store.entries
        .find({ ref, kind: 'refund' }, { projection: { delta: 1 } })
        .toArray();
      return refunds.reduce((sum, entry) => sum - entry.delta, 0);
    },

    /** Expiring grants written since `since` (the maintenance sweep checks each has its timer). */
    async expiringGrantsSince(since: Date, limit: number): Promise<LedgerEntry[]> {
      return store.entries
        .find({ expires_at: { $exists: true }, delta: { $gt: 0 }, created_at: { $gte: since } })
        .limit(limit)
        .toArray();
    },

    /** An account's entries in order, read by primary key from `fromSeq` (audits, tests). */
    async entries(accountId: string, fromSeq = 1): Promise<LedgerEntry[]> {
      const head = { account_id: accountId, seq: fromSeq - 1, balances: {} };
      return (await rollForward(store, head)).passed;
    },
  };

  function clawback(kind: 'refund' | 'dispute_hold' | 'dispute_release', sign: 1 | -1, input: ClawbackInput) {
    positiveInteger('amount', input.amount);
    return write(input, input, {
      kind,
      credit_type: input.credit_type,
      delta: () => sign * input.amount,
      hashed: { kind, credit_type: input.credit_type, amount: input.amount },
    });
  }
}
