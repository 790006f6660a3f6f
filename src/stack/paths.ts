import { join, resolve } from 'node:path';

/** The project root: src/stack/ is two levels below it. */
export const projectRoot = resolve(__dirname, '..', '..');

/** Git-ignored folder holding the built servers, their data and their logs. */
export function stackPaths(root = process.env.RAKUBUN_STACK_DIR ?? join(projectRoot, '.stack')) {
  return {
    root,
    bin: join(root, 'bin'),
    data: join(root, 'data'),
    logs: join(root, 'logs'),
    workflowBundle: join(root, 'workflow-bundle.js'),
  };
}
