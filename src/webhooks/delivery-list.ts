import type { Db, Filter } from 'mongodb';
import { allOf, descendingAfter, type KeysetPage, type KeysetRequest, readPage } from '../mongo/keyset';
import type { WebhookEventType } from './catalogue';
import {
  type DeliveryState,
  deliveryState,
  publicDelivery,
  type WebhookDeliveryDoc,
  webhookDeliveries,
} from './deliveries';
import { entriesById } from './queue';

// The operator's list of deliveries by state, newest first, paged by keyset (mongo/keyset.ts) on
// (created_at, delivery id): the event's time, then the record's unique `_id`.

export interface DeliveryListFilter {
  instance_id?: string;
  endpoint_id?: string;
  /** Any of these; every state when absent. */
  states?: DeliveryState[];
  event_type?: WebhookEventType;
}

type DeliveryFilter = Filter<WebhookDeliveryDoc & { _id: string }>;

const listOrder = ['created_at', '_id'] as const;

function stateFilter(state: DeliveryState): DeliveryFilter {
  if (state === 'retrying') return { status: 'pending', next_attempt_at: { $exists: true } };
  if (state === 'pending') return { status: 'pending', next_attempt_at: { $exists: false } };
  return { status: state };
}

export type ListedDelivery = ReturnType<typeof publicDelivery> & {
  state: DeliveryState;
  next_attempt_at: string | null;
  replays: number;
};

export async function listDeliveries(
  db: Db,
  filter: DeliveryListFilter,
  page: KeysetRequest,
): Promise<KeysetPage<ListedDelivery>> {
  const states = [...new Set(filter.states ?? [])];
  const found = webhookDeliveries(db).find(
    allOf(
      filter.instance_id ? { instance_id: filter.instance_id } : undefined,
      filter.endpoint_id ? { endpoint_id: filter.endpoint_id } : undefined,
      filter.event_type ? { event_type: filter.event_type } : undefined,
      states.length === 0
        ? undefined
        : states.length === 1
          ? stateFilter(states[0]!)
          : { $or: states.map(stateFilter) },
      descendingAfter(listOrder, page.after),
    ) as DeliveryFilter,
  );
  const { items, next } = await readPage(found, listOrder, page, (doc) => [doc.created_at, doc._id]);
  // The queue holds the true next attempt of what is on its way (the record's is a copy).
  const pendingIds = items.filter((doc) => doc.status === 'pending').map((doc) => doc._id);
  const entries = pendingIds.length > 0 ? await entriesById(db, pendingIds) : [];
  const dueAt = new Map(entries.map((entry) => [entry._id, entry.due_at]));
  return {
    items: items.map((doc) => {
      const nextAttempt = doc.status === 'pending' ? (dueAt.get(doc._id) ?? doc.next_attempt_at) : undefined;
      return {
        ...publicDelivery(doc),
        state: deliveryState(doc),
        next_attempt_at: nextAttempt?.toISOString() ?? null,
        replays: doc.replays ?? 0,
      };
    }),
    ...(next ? { next } : {}),
  };
}
