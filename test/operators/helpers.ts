import assert from 'node:assert/strict';
import { adminToken } from '../helpers/http';
import { type CallResult, call } from '../helpers/plugin-client';
import { assertResponseMatches } from '../helpers/response-schema';

/** A request as an operator (the plugin client, so that nothing is registered on the way). */
export function adminCall(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<CallResult> {
  return call(baseUrl, method, path, { token: adminToken, ...(body !== undefined ? { body } : {}) });
}

/** An operator's GET that must succeed; its body is checked against the route's response schema. */
export async function adminGet(baseUrl: string, path: string, documented: string) {
  const result = await adminCall(baseUrl, 'GET', path);
  assert.equal(result.status, 200, `${path}: ${JSON.stringify(result.body)}`);
  assertResponseMatches('GET', documented, result.body);
  return result.body;
}

/**
 * Every page of a list, following next_cursor until it is null; returns the pages' items in order.
 * `between` runs after each page (e.g. to write while an operator pages).
 */
export async function allPages<T>(
  baseUrl: string,
  path: string,
  documented: string,
  field: string,
  between: () => Promise<void> = async () => {},
): Promise<{ pages: T[][]; items: T[] }> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  const separator = path.includes('?') ? '&' : '?';
  do {
    const page = `${path}${cursor ? `${separator}cursor=${encodeURIComponent(cursor)}` : ''}`;
    const body = await adminGet(baseUrl, page, documented);
    assert.ok(Array.isArray(body[field]), `${field} in ${JSON.stringify(body)}`);
    pages.push(body[field]);
    cursor = body.next_cursor;
    assert.ok(pages.length < 100, 'paging never ends');
    await between();
  } while (cursor !== null);
  return { pages, items: pages.flat() };
}

/** A 400 invalid_request naming `field`. */
export async function assertInvalid(
  baseUrl: string,
  method: string,
  path: string,
  field: string,
  body?: unknown,
) {
  const result = await adminCall(baseUrl, method, path, body);
  assert.equal(result.status, 400, `${method} ${path}: ${result.status} ${JSON.stringify(result.body)}`);
  assert.equal(result.body.error, 'invalid_request');
  assert.match(result.body.message, new RegExp(field), `${method} ${path}: ${result.body.message}`);
}
