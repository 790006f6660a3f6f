import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { customSearchAttributes } from '../../workflows/search-attributes';
import type { JavaCommand } from './embedded-mongo-build';
import { freePort, portOpen, waitForPort } from './ports';

/** A server process of the local stack. */
export interface RunningServer {
  name: string;
  stop(): Promise<void>;
  /** SIGKILL: a crash, for tests of outages. */
  kill(): Promise<void>;
}

interface LaunchOptions {
  name: string;
  bin: string;
  args: string[];
  port: number;
  logFile: string;
  startTimeoutMs?: number;
}

// Servers run in their own process group (detached) so that a Ctrl-C in the terminal reaches only
// `npm start`, which then stops the API and worker first and the servers they depend on last.
async function launch(options: LaunchOptions): Promise<RunningServer> {
  if (await portOpen(options.port)) {
    throw new Error(
      `${options.name}: port ${options.port} is already in use (another stack running?). ` +
        'Stop it, or point this one at it with TEMPORAL_ADDRESS / MONGODB_URL.',
    );
  }
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(options.bin, options.args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });

  try {
    await Promise.race([
      waitForPort(options.port, options.startTimeoutMs ?? 60_000, options.name),
      new Promise<never>((_, reject) =>
        child.once('exit', (code) => reject(new Error(`${options.name} exited with code ${code} at start`))),
      ),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(
      `${(error as Error).message}\n--- last lines of ${options.logFile} ---\n${tail(options.logFile)}`,
    );
  }

  return {
    name: options.name,
    stop: () => stopProcess(child, () => exited),
    kill: async () => {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await done;
    },
  };
}

async function stopProcess(child: ChildProcess, exited: () => boolean): Promise<void> {
  if (exited()) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(timer);
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const searchAttributeTypeNames: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export interface TemporalServerOptions {
  bin: string;
  logDir: string;
  port: number;
  /** UI port; omit for a headless server (tests). */
  uiPort?: number;
  /** SQLite file for persistence; omit for an in-memory server (tests). */
  dbFile?: string;
}

export async function startTemporal(options: TemporalServerOptions): Promise<RunningServer> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--http-port',
    String(await freePort()),
    '--metrics-port',
    String(await freePort()),
    '--log-level',
    'warn',
  ];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  for (const key of customSearchAttributes) {
    args.push('--search-attribute', `${key.name}=${searchAttributeTypeNames[key.type]}`);
  }
  mkdirSync(options.logDir, { recursive: true });
  return launch({
    name: 'temporal',
    bin: options.bin,
    args,
    port: options.port,
    logFile: join(options.logDir, 'temporal.log'),
  });
}

export interface EmbeddedMongoOptions {
  command: JavaCommand;
  logDir: string;
  /** H2 file holding the data; omit for an in-memory server. */
  dataFile?: string;
  port: number;
}

/** mongo-java-server (see embedded-mongo/EmbeddedMongo.java): the local MongoDB-wire server. */
export async function startEmbeddedMongo(options: EmbeddedMongoOptions): Promise<RunningServer> {
  mkdirSync(options.logDir, { recursive: true });
  if (options.dataFile) mkdirSync(dirname(options.dataFile), { recursive: true });
  return launch({
    name: 'embedded-mongo',
    bin: options.command.bin,
    args: [...options.command.args, '127.0.0.1', String(options.port), options.dataFile ?? ':memory:'],
    port: options.port,
    logFile: join(options.logDir, 'embedded-mongo.log'),
  });
}

export interface StripeMockOptions {
  bin: string;
  logDir: string;
  port: number;
}

export async function startStripeMock(options: StripeMockOptions): Promise<RunningServer> {
  mkdirSync(options.logDir, { recursive: true });
  return launch({
    name: 'stripe-mock',
    bin: options.bin,
    args: ['-http-port', String(options.port)],
    port: options.port,
    logFile: join(options.logDir, 'stripe-mock.log'),
  });
}
