import { join, resolve } from 'node:path';

// Where production code finds the project's own files. Computed from this file's place (src/ is one
// level below the root), so that nothing here depends on the development tools in tools/.

/** The project root: src/ is one level below it. */
export const projectRoot = resolve(__dirname, '..');

/** The git-ignored folder for generated files (RAKUBUN_STACK_DIR overrides it). */
export function stackDir(): string {
  return process.env.RAKUBUN_STACK_DIR ?? join(projectRoot, '.stack');
}

/** Where `npm run build:workflows` writes the workflow bundle and the worker looks for it. */
export function defaultWorkflowBundlePath(): string {
  return join(stackDir(), 'workflow-bundle.js');
}
