import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const projectRoot = join(__dirname, '..', '..');

/** Runs one of the project's TypeScript commands (tools/…) to its end; stdout and stderr together. */
export async function runScript(
  script: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, script), ...args], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}
