import { ensureBinaries, GoMissingError, type StackBinary, stackBinaries } from './binaries';

// `npm run stack`: build (or confirm) the local servers without starting anything.
const names = Object.keys(stackBinaries) as StackBinary[];
ensureBinaries(names).then(
  (paths) => {
    for (const [name, path] of Object.entries(paths)) console.log(`${name.padEnd(12)} ${path}`);
  },
  (error) => {
    console.error(error instanceof GoMissingError ? error.message : error);
    process.exit(1);
  },
);
