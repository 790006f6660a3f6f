import { invalidRequest } from './api-error';
import type { FormObject, FormValue } from './form';
import type { EventObject, ListObject, SandboxObject } from './objects';
import type { SandboxStore } from './store';
import { expand, render } from './views';

// Stripe's cursor pagination over newest-first lists: `limit` (1-100, default 10),
// `starting_after` / `ending_before` object ids, and `created` as a value or a range.

function createdFilter(value: FormValue | undefined): (created: number) => boolean {
  if (value === undefined) return () => true;
  const number = (raw: FormValue | undefined, param: string) => {
    if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw invalidRequest('Invalid integer', param);
    return Number(raw);
  };
  if (typeof value === 'string') {
    const exact = number(value, 'created');
    return (created) => created === exact;
  }
  if (Array.isArray(value)) throw invalidRequest('Invalid created filter', 'created');
  const checks: Array<(created: number) => boolean> = [];
  for (const [op, raw] of Object.entries(value)) {
    const bound = number(raw, `created[${op}]`);
    if (op === 'gt') checks.push((created) => created > bound);
    else if (op === 'gte') checks.push((created) => created >= bound);
    else if (op === 'lt') checks.push((created) => created < bound);
    else if (op === 'lte') checks.push((created) => created <= bound);
    else
      throw invalidRequest(
        `Received unknown parameter: created[${op}]`,
        `created[${op}]`,
        'parameter_unknown',
      );
  }
  return (created) => checks.every((check) => check(created));
}

function limitOf(value: FormValue | undefined): number {
  if (value === undefined) return 10;
  const limit = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(limit >= 1 && limit <= 100)) throw invalidRequest('This value must be between 1 and 100.', 'limit');
  return limit;
}

export function expandPaths(params: FormObject): string[] {
  const value = params.expand;
  if (value === undefined) return [];
  const paths = Array.isArray(value) ? value : [value];
  if (paths.some((path) => typeof path !== 'string')) throw invalidRequest('Invalid array', 'expand');
  return paths as string[];
}

export function listPage<T extends SandboxObject | EventObject>(
  store: SandboxStore,
  objects: Record<string, T>,
  params: FormObject,
  url: string,
  extraFilter: (object: T) => boolean = () => true,
): ListObject<Record<string, unknown>> {
  const inRange = createdFilter(params.created);
  const limit = limitOf(params.limit);
  let matching = store
    .newestFirst(objects)
    .filter((object) => inRange(object.created) && extraFilter(object));

  const after = params.starting_after;
  const before = params.ending_before;
  let hasMore: boolean;
  let page: T[];
  if (typeof before === 'string') {
    const index = matching.findIndex((object) => object.id === before);
    if (index < 0) throw invalidRequest(`No such object: '${before}'`, 'ending_before', 'resource_missing');
    matching = matching.slice(0, index);
    page = matching.slice(Math.max(0, matching.length - limit));
    hasMore = matching.length > limit;
  } else {
    if (typeof after === 'string') {
      const index = matching.findIndex((object) => object.id === after);
      if (index < 0) throw invalidRequest(`No such object: '${after}'`, 'starting_after', 'resource_missing');
      matching = matching.slice(index + 1);
    }
    page = matching.slice(0, limit);
    hasMore = matching.length > limit;
  }

  const itemPaths = expandPaths(params).map((path) => {
    if (!path.startsWith('data.'))
      throw invalidRequest(`This property cannot be expanded (${path}).`, 'expand');
    return path.slice('data.'.length);
  });
  return {
    object: 'list',
    data: page.map((object) => expand(store, render(store, object), itemPaths)),
    has_more: hasMore,
    url,
  };
}
