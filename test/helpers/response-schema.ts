import assert from 'node:assert/strict';
import { documentedPath } from '../../src/http/openapi';
import { declaredRoutes } from './routes';

/**
 * Checks a real success answer against the response schema the OpenAPI document lists for that
 * operation, so the document cannot promise what the code does not send. Returns the parsed body.
 */
export function assertResponseMatches(method: string, path: string, body: unknown): void {
  const operation = declaredRoutes().find(
    (candidate) => candidate.method === method.toLowerCase() && documentedPath(candidate.path) === path,
  );
  assert.ok(operation, `no operation ${method} ${path} in the OpenAPI document`);
  assert.ok(operation.response, `${method} ${path} has no response schema`);
  const parsed = operation.response.safeParse(body);
  assert.ok(
    parsed.success,
    `${method} ${path} answered a body its response schema refuses: ${JSON.stringify(parsed.error?.issues)}\n${JSON.stringify(body)}`,
  );
}
