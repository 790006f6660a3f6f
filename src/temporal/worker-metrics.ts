import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config';
import { metricsReader } from '../http/middleware/metrics-auth';
import type { Logger } from '../logger';
import { metricsText } from '../metrics';

// The worker's `GET /metrics` (WORKER_METRICS_PORT, on HOST): this process's series (src/metrics.ts)
// followed by the Temporal SDK's own worker metrics, which the SDK's core serves on a loopback port
// of its own (installTemporalRuntime) and this listener reads and passes on, behind the same token.

/** A port free on 127.0.0.1 right now, for the SDK's exporter (nothing outside this host reaches it). */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface WorkerMetricsOptions {
  config: Pick<Config, 'HOST' | 'METRICS_TOKEN' | 'ADMIN_API_TOKEN' | 'ADMIN_API_TOKENS'>;
  port: number;
  logger: Logger;
  /** Where the SDK's Prometheus exporter listens (`127.0.0.1:<port>`), if it was installed. */
  sdkMetricsAddress?: string;
}

async function sdkMetrics(address: string, logger: Logger): Promise<string> {
  try {
    const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) throw new Error(`answered ${response.status}`);
    return await response.text();
  } catch (error) {
    logger.warn({ err: error, address }, 'reading the Temporal SDK metrics failed');
    return '# Temporal SDK metrics unavailable\n';
  }
}

export async function startWorkerMetrics(
  options: WorkerMetricsOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const allowed = metricsReader(options.config);
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    if (!allowed(request.headers.authorization)) {
      response
        .writeHead(401, { 'Content-Type': 'text/plain', 'WWW-Authenticate': 'Bearer' })
        .end('Metrics token required\n');
      return;
    }
    void (async () => {
      const own = await metricsText();
      const sdk = options.sdkMetricsAddress
        ? await sdkMetrics(options.sdkMetricsAddress, options.logger)
        : '';
      response.writeHead(200, { 'Content-Type': own.contentType }).end(`${own.text}\n${sdk}`);
    })().catch((error) => {
      options.logger.error({ err: error }, 'serving worker metrics failed');
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end();
    });
  });
  server.listen(options.port, options.config.HOST);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.config.HOST}:${port}/metrics`;
  options.logger.info({ url }, 'worker metrics listening');
  return {
    url,
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}
