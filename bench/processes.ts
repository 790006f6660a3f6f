import { type ChildProcess, fork, spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../tools/stack/paths';

// The benches' child processes (the API, workers, plugin sites) and their one way of calling JSON.

export function spawnTs(entry: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(projectRoot, entry)], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** A TypeScript child with an IPC channel; resolves once it sends `{ready}`. */
export async function forkTs<Ready>(
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onMessage: (message: Record<string, unknown>) => void = () => {},
): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = fork(join(projectRoot, entry), args, {
    cwd: projectRoot,
    env,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.on('message', (message: Record<string, unknown>) => {
      if (message.ready !== undefined) resolve(message.ready as Ready);
      onMessage(message);
    });
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}`)));
  });
  return { child, ready };
}

/** Stops the children that still run (SIGTERM, then SIGKILL after 15 s) and waits for them. */
export async function stopAll(children: ChildProcess[]): Promise<void> {
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  const exited = running.map((child) => new Promise((resolve) => child.once('exit', resolve)));
  for (const child of running) child.kill('SIGTERM');
  const kill = setTimeout(() => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  }, 15_000);
  await Promise.all(exited);
  clearTimeout(kill);
}

export async function json(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok)
    throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}
