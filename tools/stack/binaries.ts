import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stackPaths } from './paths';

// The local stack is built from pinned Go modules: there is no Docker engine or download site here,
// only the Go module proxy. Later Temporal CLI releases carry a `replace` directive and cannot be
// installed with `go install`, hence v1.5.1. (The MongoDB-wire server is Java: embedded-mongo-build.ts.)
interface BinarySpec {
  module: string;
  version: string;
}

export const stackBinaries = {
  temporal: { module: 'github.com/temporalio/cli/cmd/temporal', version: 'v1.5.1' },
  'stripe-mock': { module: 'github.com/stripe/stripe-mock', version: 'v0.197.0' },
} satisfies Record<string, BinarySpec>;

export type StackBinary = keyof typeof stackBinaries;

export class GoMissingError extends Error {
  constructor() {
    super(
      'Go is not installed, and the local stack (Temporal dev server, stripe-mock) is built with ' +
        '`go install`. Install Go 1.22 or newer, or run the stack with Docker instead: `docker compose up`.',
    );
    this.name = 'GoMissingError';
  }
}

/** Path of an installed binary; the version is part of the name so a pin change rebuilds it. */
export function binaryPath(name: StackBinary): string {
  return join(stackPaths().bin, `${name}-${stackBinaries[name].version}`);
}

function goAvailable(): boolean {
  const result = spawnSync('go', ['version'], { stdio: 'ignore' });
  return result.status === 0;
}

/** Builds whatever is missing, reusing binaries already in `.stack/bin`. Returns their paths. */
export async function ensureBinaries(
  names: readonly StackBinary[],
  log: (line: string) => void = (line) => console.log(line),
): Promise<Record<StackBinary, string>> {
  const paths = {} as Record<StackBinary, string>;
  const missing = names.filter((name) => !existsSync(binaryPath(name)));
  for (const name of names) paths[name] = binaryPath(name);
  if (missing.length === 0) return paths;
  if (!goAvailable()) throw new GoMissingError();

  log(`[stack] building ${missing.join(', ')} with go install (the first build takes several minutes)`);
  for (const name of missing) await goInstall(name, log);
  return paths;
}

async function goInstall(name: StackBinary, log: (line: string) => void): Promise<void> {
  const spec: BinarySpec = stackBinaries[name];
  const { bin } = stackPaths();
  const scratch = join(bin, `.build-${name}-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const started = Date.now();
  try {
    await run(name, ['install', '-v', `${spec.module}@${spec.version}`], {
      log,
      cwd: scratch,
      env: { GOBIN: scratch },
    });
    renameSync(join(scratch, spec.module.split('/').pop()!), binaryPath(name));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  log(`[stack]   ${name} ${spec.version} built in ${Math.round((Date.now() - started) / 1000)}s`);
}

/** Runs one `go` command, printing a progress line every 10 s; resolves with its stdout. */
async function run(
  name: StackBinary,
  args: string[],
  options: { log: (line: string) => void; cwd: string; env?: Record<string, string> },
): Promise<string> {
  const started = Date.now();
  let downloaded = 0;
  let compiled = 0;
  let stdout = '';
  let tail: string[] = [];
  const child = spawn('go', args, {
    cwd: options.cwd,
    env: { ...process.env, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0', GOWORK: 'off', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      if (line.startsWith('go: downloading')) downloaded += 1;
      else compiled += 1;
      tail = [...tail.slice(-19), line];
    }
  });
  const progress = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    options.log(
      `[stack]   ${name}: ${seconds}s, ${downloaded} modules downloaded, ${compiled} packages built`,
    );
  }, 10_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(progress);
  if (code !== 0) throw new Error(`go ${args.join(' ')} failed (exit ${code}):\n${tail.join('\n')}`);
  return stdout;
}
