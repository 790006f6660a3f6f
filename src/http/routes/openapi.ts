import { type Route, route } from '../route';

/** `GET /openapi.json`: the document, made once from every declared route (src/http/openapi.ts). */
export function openApiRoutes(document: () => unknown): Route[] {
  return [
    route({
      method: 'get',
      path: '/openapi.json',
      summary: 'This document',
      auth: 'none',
      handler(ctx) {
        ctx.body = document();
      },
    }),
  ];
}
