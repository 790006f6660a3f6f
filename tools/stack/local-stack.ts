import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBinaries, type StackBinary } from './binaries';
import { ensureEmbeddedMongo } from './embedded-mongo-build';
import { stackPaths } from './paths';
import { freePort } from './ports';
import { type RunningServer, startEmbeddedMongo, startStripeMock, startTemporal } from './servers';

export interface LocalStackOptions {
  /** `npm start`: fixed ports, UI on, data kept under .stack/data. Tests: free ports, in-memory Temporal. */
  mode: 'persistent' | 'ephemeral';
  temporal: boolean;
  mongodb: boolean;
  stripeMock: boolean;
  /** Where ephemeral data goes (tests make a temporary folder). */
  scratchDir?: string;
  log?: (line: string) => void;
}

export interface LocalStack {
  /** Environment for the processes that use this stack. */
  env: Record<string, string>;
  urls: Record<string, string>;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const paths = stackPaths();
  const persistent = options.mode === 'persistent';
  const dataDir = persistent ? paths.data : (options.scratchDir ?? join(paths.root, 'tmp'));
  const logDir = persistent ? paths.logs : join(dataDir, 'logs');
  mkdirSync(dataDir, { recursive: true });

  const wanted: StackBinary[] = [];
  if (options.temporal) wanted.push('temporal');
  if (options.stripeMock) wanted.push('stripe-mock');
  const bins = await ensureBinaries(wanted, log);
  const mongoCommand = options.mongodb ? await ensureEmbeddedMongo(log) : undefined;

  const servers: RunningServer[] = [];
  const env: Record<string, string> = {};
  const urls: Record<string, string> = {};
  const stop = async () => {
    for (const server of servers.reverse()) await server.stop();
  };

  try {
    if (options.temporal) {
      const port = persistent ? 7233 : await freePort();
      const uiPort = persistent ? 8233 : undefined;
      log(`[stack] starting Temporal dev server on 127.0.0.1:${port}`);
      servers.push(
        await startTemporal({
          bin: bins.temporal,
          logDir,
          port,
          uiPort,
          dbFile: persistent ? join(dataDir, 'temporal.db') : undefined,
        }),
      );
      env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
      urls['Temporal gRPC'] = env.TEMPORAL_ADDRESS;
      if (uiPort) urls['Temporal UI'] = `http://127.0.0.1:${uiPort}`;
    }
    if (mongoCommand) {
      const port = persistent ? 27017 : await freePort();
      // A data folder made before the journal keeps its H2 file (and its data).
      const h2File = join(dataDir, 'mongo', 'data.mv.db');
      const dataFile = existsSync(h2File) ? h2File : join(dataDir, 'mongo', 'data.journal');
      const kind = dataFile === h2File ? 'H2 file' : 'in memory with a journal';
      log(`[stack] starting embedded-mongo (mongo-java-server, ${kind}) on 127.0.0.1:${port}`);
      servers.push(await startEmbeddedMongo({ command: mongoCommand, logDir, dataFile, port }));
      env.MONGODB_URL = `mongodb://127.0.0.1:${port}`;
      urls.MongoDB = env.MONGODB_URL;
    }
    if (options.stripeMock) {
      const port = await freePort();
      log(`[stack] starting stripe-mock on 127.0.0.1:${port}`);
      servers.push(await startStripeMock({ bin: bins['stripe-mock'], logDir, port }));
      env.STRIPE_MOCK_URL = `http://127.0.0.1:${port}`;
      urls['stripe-mock'] = env.STRIPE_MOCK_URL;
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { env, urls, stop };
}
