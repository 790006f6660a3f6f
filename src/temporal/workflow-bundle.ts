import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { defaultWorkflowBundlePath, projectRoot } from '../paths';

const workflowsDir = join(projectRoot, 'workflows');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
    });
}

/** Hash of everything the bundle is made of, so a stale bundle is never reused. */
function workflowSourceHash(): string {
  const hash = createHash('sha256');
  for (const file of [...sourceFiles(workflowsDir), join(projectRoot, 'package-lock.json')]) {
    hash.update(file).update(readFileSync(file));
  }
  return hash.digest('hex');
}

/**
 * Bundles the workflow code once and reuses the file while workflows/ is unchanged, so that a worker
 * starts in about a second instead of spending it on webpack.
 */
export async function ensureWorkflowBundle(
  log: (line: string) => void = () => {},
  target = defaultWorkflowBundlePath(),
): Promise<string> {
  const hash = workflowSourceHash();
  const hashFile = `${target}.sha256`;
  if (existsSync(target) && existsSync(hashFile) && readFileSync(hashFile, 'utf8') === hash) return target;

  log('bundling workflow code');
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(workflowsDir, 'index.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn: log, error: log, log() {} },
  });
  mkdirSync(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, code);
  renameSync(temporary, target);
  writeFileSync(hashFile, hash);
  return target;
}
