import { z } from 'zod';
import { creditFields, creditFieldsSchema } from '../../ledger/credit-fields';
import { accountIdOf } from '../../ledger/ids';
import { type AccountState, accountEntries, accountState, listAccounts } from '../../ledger/reads';
import { normaliseBalances } from '../../ledger/store';
import { entryKinds, type LedgerEntry } from '../../ledger/types';
import type { AppDeps } from '../context';
import { ApiError, notFound } from '../errors';
import { nextCursor, pagedLists, pagedQuery, pagedResponse, pageRequest } from '../paging';
import { type Route, route } from '../route';
import { emailSearchField } from '../schemas/common';

const usersList = pagedLists.users;
const ledgerList = pagedLists.ledger;

const instanceIdQuery = z.string().trim().min(1).max(255);

export const usersQuery = pagedQuery({
  instance_id: instanceIdQuery.optional(),
  email: emailSearchField.optional().describe('trimmed, matched in any case'),
});

export const ledgerQuery = pagedQuery({
  instance_id: instanceIdQuery,
  user_id: z.string().trim().min(1).max(191).describe('as the plugin sends it: `42` and `"42"` are one user'),
});

export const operatorAccountSchema = (creditTypes: readonly string[]) =>
  z.object({
    account_id: z.string(),
    instance_id: z.string(),
    user_id: z.string(),
    user_email: z.string().nullable().describe('as last sent by the plugin'),
    credits: creditFieldsSchema(creditTypes).describe("exact: read from the account's latest ledger entry"),
    ledger_seq: z.number().int().nonnegative().describe('seq of the latest entry; 0 without entries'),
    last_entry_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
  });

export function operatorAccount(state: AccountState) {
  return {
    account_id: state.account._id,
    instance_id: state.account.instance_id,
    user_id: state.account.user_id,
    user_email: state.account.user_email ?? null,
    credits: creditFields(state.head.balances),
    ledger_seq: state.head.seq,
    last_entry_at: state.last_entry_at?.toISOString() ?? null,
    created_at: state.account.created_at.toISOString(),
  };
}

const ledgerEntrySchema = (creditTypes: readonly string[]) =>
  z.object({
    transaction_id: z.string(),
    seq: z.number().int().positive(),
    kind: z.enum(entryKinds),
    credit_type: z.string(),
    delta: z.number().int(),
    credits_after: creditFieldsSchema(creditTypes),
    reason: z.string().nullable(),
    ref: z.string().nullable().describe('what caused it: a purchase id, the grant an expiry ends, ...'),
    expires_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
  });

function operatorEntry(entry: LedgerEntry, creditTypes: readonly string[]) {
  return {
    transaction_id: entry.transaction_id,
    seq: entry.seq,
    kind: entry.kind,
    credit_type: entry.credit_type,
    delta: entry.delta,
    credits_after: creditFields(normaliseBalances(entry.balances_after, creditTypes)),
    reason: entry.reason ?? null,
    ref: entry.ref ?? null,
    expires_at: entry.expires_at?.toISOString() ?? null,
    created_at: entry.created_at.toISOString(),
  };
}

/** Operators' reads of accounts and their ledgers: `/admin/v1/users`, `/admin/v1/ledger`. */
export function adminUserRoutes(deps: Pick<AppDeps, 'config' | 'db'>): Route[] {
  const types = deps.config.CREDIT_TYPES;
  return [
    route({
      method: 'get',
      path: '/admin/v1/users',
      summary: 'Accounts with their exact balances, newest first (paged)',
      auth: 'admin',
      query: usersQuery,
      response: pagedResponse({ users: z.array(operatorAccountSchema(types)) }),
      async handler(ctx, input) {
        const query = input.query();
        const page = await listAccounts(
          deps.db,
          types,
          { instance_id: query.instance_id, email: query.email },
          pageRequest(usersList, query),
        );
        ctx.body = {
          success: true,
          users: page.items.map(operatorAccount),
          next_cursor: nextCursor(usersList, page),
        };
      },
    }),
    route({
      method: 'get',
      path: '/admin/v1/ledger',
      summary: "An account's ledger entries, newest first (paged)",
      auth: 'admin',
      query: ledgerQuery,
      response: pagedResponse({
        account: operatorAccountSchema(types),
        entries: z.array(ledgerEntrySchema(types)),
      }),
      async handler(ctx, input) {
        const query = input.query();
        const accountId = accountIdOf(query.instance_id, query.user_id);
        const request = pageRequest(ledgerList, query);
        if (request.after && request.after[0] !== accountId) {
          throw new ApiError(400, 'invalid_request', 'Invalid fields: cursor (it pages another account)');
        }
        const state = await accountState(deps.db, types, accountId);
        if (!state) throw notFound('No such account: this instance has no ledger for this user');
        const page = await accountEntries(deps.db, state, request);
        ctx.body = {
          success: true,
          account: operatorAccount(state),
          entries: page.items.map((entry) => operatorEntry(entry, types)),
          next_cursor: nextCursor(ledgerList, page),
        };
      },
    }),
  ];
}
