import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

// Development tooling lives in tools/ (the local stack, the Stripe sandbox, `npm start`) and is left
// out of the Docker image. Production code (src/, workflows/, activities/) must therefore never
// import from it, or the image would break at the first such import.

const root = resolve(__dirname, '..');
const productionDirs = ['src', 'workflows', 'activities'];
const devOnlyDirs = ['tools', 'test', 'bench'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return tsFiles(path);
      return entry.name.endsWith('.ts') ? [path] : [];
    })
    .sort();
}

/** Every module specifier in a file: static imports and re-exports, import(), require(). */
function specifiers(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((imported) => imported.fileName);
}

function insideDevOnlyDir(path: string): string | undefined {
  const fromRoot = relative(root, path);
  return devOnlyDirs.find((dir) => fromRoot === dir || fromRoot.startsWith(`${dir}${sep}`));
}

describe('project layout', () => {
  it('production code (src/, workflows/, activities/) imports nothing from tools/, test/ or bench/', () => {
    const files = productionDirs.flatMap((dir) => tsFiles(join(root, dir)));
    assert.ok(files.length > 50, `expected the production sources, found ${files.length} files`);
    const offending: string[] = [];
    for (const file of files) {
      for (const specifier of specifiers(file)) {
        const local = specifier.startsWith('.') || isAbsolute(specifier);
        const target = local ? resolve(dirname(file), specifier) : undefined;
        const dir = target
          ? insideDevOnlyDir(target)
          : devOnlyDirs.find((d) => specifier.startsWith(`${d}/`));
        if (dir) offending.push(`${relative(root, file)} imports '${specifier}' (in ${dir}/)`);
      }
    }
    assert.deepEqual(
      offending,
      [],
      `production code must not import development code:\n${offending.join('\n')}`,
    );
  });

  it('keeps tools/, test/ and bench/ out of the Docker image, and builds it without them', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim().replace(/^\/|\/$/g, ''));
    for (const dir of devOnlyDirs) assert.ok(ignored.includes(dir), `.dockerignore lists ${dir}/`);
    const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<
      string,
      string
    >;
    // What the image runs: Dockerfile builds the bundle, docker-compose.yml starts api or worker.
    for (const name of ['build:workflows', 'api', 'worker']) {
      const script = scripts[name] ?? '';
      assert.ok(script.includes('src/'), `${name}: ${script}`);
      for (const dir of devOnlyDirs)
        assert.ok(!script.includes(`${dir}/`), `${name} needs ${dir}/: ${script}`);
    }
  });
});
