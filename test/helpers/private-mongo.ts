import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureEmbeddedMongo } from '../../tools/stack/embedded-mongo-build';
import { freePort } from '../../tools/stack/ports';
import { type RunningServer, startEmbeddedMongo } from '../../tools/stack/servers';

/**
 * A MongoDB-wire server for one outage test, so that killing it disturbs no other suite. `start`
 * (again after a kill) serves the same data file on the same port.
 */
export async function privateMongo(): Promise<{ url: string; start(): Promise<RunningServer> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rakubun-mongo-'));
  const port = await freePort();
  const command = await ensureEmbeddedMongo();
  return {
    url: `mongodb://127.0.0.1:${port}`,
    start: () =>
      startEmbeddedMongo({
        command,
        dataFile: join(dataDir, 'data.journal'),
        logDir: join(dataDir, 'logs'),
        port,
      }),
  };
}
