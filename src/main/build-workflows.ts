import { ensureWorkflowBundle } from '../temporal/workflow-bundle';

// `npm run build:workflows`: prebuild the bundle (for an image, or before starting many workers).
ensureWorkflowBundle((line) => console.log(line)).then(
  (path) => console.log(`workflow bundle: ${path}`),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
