import { ensureBinaries, GoMissingError, type StackBinary, stackBinaries } from './binaries';
import { ensureEmbeddedMongo, JavaMissingError } from './embedded-mongo-build';

// `npm run stack`: build (or confirm) the local servers without starting anything.
async function main(): Promise<void> {
  const paths = await ensureBinaries(Object.keys(stackBinaries) as StackBinary[]);
  for (const [name, path] of Object.entries(paths)) console.log(`${name.padEnd(14)} ${path}`);
  const mongo = await ensureEmbeddedMongo();
  console.log(`${'embedded-mongo'.padEnd(14)} ${mongo.bin} ${mongo.args.join(' ')}`);
}

main().catch((error) => {
  const known = error instanceof GoMissingError || error instanceof JavaMissingError;
  console.error(known ? error.message : error);
  process.exit(1);
});
