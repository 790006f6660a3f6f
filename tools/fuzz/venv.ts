import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../stack/paths';

// The schemathesis the fuzz run uses, in a git-ignored virtualenv under .stack/, made on first use
// with pip from the package index (and remade when the pin changes).

export const schemathesisVersion = '4.32.5';
export const venvDir = join(projectRoot, '.stack', 'fuzz-venv');
const marker = join(venvDir, 'rakubun-pin');

function run(command: string, args: string[], say: (line: string) => void, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    const ticker = setInterval(
      () => say(`[fuzz] ${what}: still running (${Math.round((Date.now() - started) / 1000)}s)`),
      10_000,
    );
    child.once('error', (error) => {
      clearInterval(ticker);
      reject(error);
    });
    child.once('exit', (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else reject(new Error(`${what} failed (exit ${code})`));
    });
  });
}

/** The path of the schemathesis CLI, installing it first when needed. */
export async function ensureSchemathesis(say: (line: string) => void): Promise<string> {
  const cli = join(venvDir, 'bin', 'schemathesis');
  if (existsSync(cli) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === schemathesisVersion) {
    return cli;
  }
  const python = process.env.FUZZ_PYTHON ?? 'python3';
  say(`[fuzz] installing schemathesis ${schemathesisVersion} into .stack/fuzz-venv (first run only)`);
  rmSync(venvDir, { recursive: true, force: true });
  await run(python, ['-m', 'venv', venvDir], say, 'python -m venv');
  await run(
    join(venvDir, 'bin', 'pip'),
    ['install', '--progress-bar', 'off', `schemathesis==${schemathesisVersion}`],
    say,
    'pip install',
  );
  writeFileSync(marker, `${schemathesisVersion}\n`);
  say('[fuzz] schemathesis installed');
  return cli;
}
