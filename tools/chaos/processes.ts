import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { projectRoot } from '../stack/paths';

// The processes a chaos run drives: the API and the worker as `npm run api` / `npm run worker` start
// them (their logs kept in files, read at the end for leaked secrets), and plugin sites that can be
// made to fail for a while.

export interface NodeProcess {
  name: string;
  logFile: string;
  kill(): Promise<void>;
  stop(): Promise<void>;
  alive(): boolean;
}

export async function startNodeProcess(options: {
  name: string;
  entry: 'api.ts' | 'worker.ts';
  env: Record<string, string>;
  logFile: string;
  ready: (output: string) => boolean | Promise<boolean>;
  timeoutMs?: number;
}): Promise<NodeProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(projectRoot, 'src', 'main', options.entry)],
    { cwd: projectRoot, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let recent = '';
  const take = (chunk: Buffer) => {
    const text = chunk.toString();
    appendFileSync(options.logFile, text);
    recent = (recent + text).slice(-20_000);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  let exited = false;
  const done = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!(await options.ready(recent))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} did not start:\n${recent.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    name: options.name,
    logFile: options.logFile,
    alive: () => !exited,
    async kill() {
      if (exited) return;
      child.kill('SIGKILL');
      await done;
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** A plugin site: answers 200, or 500 while failing. Counts what arrived by webhook-id. */
export async function startPluginSite() {
  let failingUntil = 0;
  const received = new Map<string, number>();
  let requests = 0;
  let refused = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests += 1;
      if (Date.now() < failingUntil) {
        refused += 1;
        res.writeHead(500).end('down for maintenance');
        return;
      }
      const id = String(req.headers['webhook-id'] ?? '');
      received.set(id, (received.get(id) ?? 0) + 1);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stats: () => ({ requests, refused, distinct: received.size }),
    failFor(ms: number) {
      failingUntil = Math.max(failingUntil, Date.now() + ms);
    },
    heal() {
      failingUntil = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export type PluginSite = Awaited<ReturnType<typeof startPluginSite>>;

export function resetLog(file: string): void {
  writeFileSync(file, '');
}
