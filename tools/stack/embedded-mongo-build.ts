import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stackPaths } from './paths';

// The local MongoDB-wire server is mongo-java-server (Maven Central) behind a small Java main
// (embedded-mongo/EmbeddedMongo.java). Maven fetches the jars, javac compiles the main; the result
// lives in .stack/bin under a name that changes with the pinned version or the main's source, so
// an edit to either rebuilds it and anything else reuses it.

export const embeddedMongoVersion = '1.47.0';
const sourceDir = join(__dirname, 'embedded-mongo');
const sources = ['pom.xml', 'EmbeddedMongo.java'];

export class JavaMissingError extends Error {
  constructor(tool: string) {
    super(
      `${tool} is not installed. The local MongoDB-wire server (mongo-java-server) needs a JDK 17+ and ` +
        'Maven 3 to build; install them, or point the backend at a MongoDB of your own with MONGODB_URL.',
    );
    this.name = 'JavaMissingError';
  }
}

function installDir(): string {
  const hash = createHash('sha256');
  for (const file of sources) hash.update(readFileSync(join(sourceDir, file)));
  return join(stackPaths().bin, `embedded-mongo-${embeddedMongoVersion}-${hash.digest('hex').slice(0, 8)}`);
}

/** The command that runs the server: `java` and the arguments before host, port and data file. */
export interface JavaCommand {
  bin: string;
  args: string[];
}

function commandFor(dir: string): JavaCommand {
  // H2 keeps its indexes on the heap: 4 GB holds a few million documents; serial GC suits two cores.
  // The stored documents live as long as the server, so they are promoted at their first young
  // collection instead of being copied again at each (pauses of up to 42 ms stalled every command
  // in the webhook bench); a small young generation keeps each pause short (most under 12 ms).
  return {
    bin: 'java',
    args: [
      '-Xmx4g',
      '-XX:+UseSerialGC',
      '-XX:MaxTenuringThreshold=0',
      '-Xmn32m',
      '-cp',
      `${join(dir, 'classes')}:${join(dir, 'lib')}/*`,
      'EmbeddedMongo',
    ],
  };
}

function available(tool: string): boolean {
  return spawnSync(tool, ['-version'], { stdio: 'ignore' }).status === 0;
}

/** Builds the server unless this version is already in .stack/bin. */
export async function ensureEmbeddedMongo(
  log: (line: string) => void = (line) => console.log(line),
): Promise<JavaCommand> {
  const dir = installDir();
  if (existsSync(dir)) return commandFor(dir);
  for (const tool of ['java', 'javac', 'mvn']) if (!available(tool)) throw new JavaMissingError(tool);

  const started = Date.now();
  log(`[stack] building embedded-mongo (mongo-java-server ${embeddedMongoVersion}) with Maven and javac`);
  const scratch = `${dir}.build-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  try {
    await run(
      'mvn',
      [
        '-B',
        '-f',
        join(sourceDir, 'pom.xml'),
        'dependency:copy-dependencies',
        `-DoutputDirectory=${join(scratch, 'lib')}`,
      ],
      log,
    );
    await run(
      'javac',
      [
        '-cp',
        `${join(scratch, 'lib')}/*`,
        '-d',
        join(scratch, 'classes'),
        join(sourceDir, 'EmbeddedMongo.java'),
      ],
      log,
    );
    renameSync(scratch, dir);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  log(`[stack]   embedded-mongo built in ${Math.round((Date.now() - started) / 1000)}s`);
  return commandFor(dir);
}

/** Runs one build command with a progress line every 10 s; fails with the output's last lines. */
async function run(command: string, args: string[], log: (line: string) => void): Promise<void> {
  const started = Date.now();
  let downloads = 0;
  let tail: string[] = [];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      if (/Downloaded from/.test(line)) downloads += 1;
      tail = [...tail.slice(-19), line];
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const progress = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`[stack]   embedded-mongo: ${command} ${seconds}s, ${downloads} files downloaded`);
  }, 10_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(progress);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${code}):\n${tail.join('\n')}`);
}
