import { exposeMetrics, metricsText } from '../../metrics';
import { type Route, route } from '../route';

/** `GET /metrics`: this API process's series in Prometheus's text format, for a scraper with a token. */
export function metricsRoutes(): Route[] {
  exposeMetrics('http', 'ledger');
  return [
    route({
      method: 'get',
      path: '/metrics',
      summary: "Prometheus metrics of this API process (text format; the worker's are on its own port)",
      auth: 'metrics',
      async handler(ctx) {
        const { contentType, text } = await metricsText();
        ctx.body = text;
        ctx.set('Content-Type', contentType);
      },
    }),
  ];
}
