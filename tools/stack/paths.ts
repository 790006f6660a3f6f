import { join } from 'node:path';
import { projectRoot, stackDir } from '../../src/paths';

// The root and the folder come from src/paths.ts, which production uses to find the workflow bundle:
// tools may build on src/, never the other way round (test/layout.test.ts).
export { projectRoot };

/** Git-ignored folder holding the built servers, their data and their logs. */
export function stackPaths(root = stackDir()) {
  return {
    root,
    bin: join(root, 'bin'),
    data: join(root, 'data'),
    logs: join(root, 'logs'),
    workflowBundle: join(root, 'workflow-bundle.js'),
  };
}
