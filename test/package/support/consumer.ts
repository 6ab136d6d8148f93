// Helpers for the package tests: run commands the way a user's shell would, in fresh folders
// outside the repository that install the packed tarball from disk and everything else from
// the npm registry.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { writeFigure } from './figures.js';

/** What the global setup prepared, read from the environment it set for the workers. */
export interface Session {
  /** Temporary folder holding the tarball and every consumer folder; removed at the end. */
  root: string;
  /** Absolute path of the packed `fenced-lock-<version>.tgz`. */
  tarball: string;
  /** The DynamoDB Local endpoint. */
  endpoint: string;
}

export function session(): Session {
  const { PACKAGE_TEST_ROOT, PACKAGE_TEST_TARBALL, PACKAGE_TEST_DYNAMODB_ENDPOINT } = process.env;
  if (!PACKAGE_TEST_ROOT || !PACKAGE_TEST_TARBALL || !PACKAGE_TEST_DYNAMODB_ENDPOINT) {
    throw new Error('the package session is not set up: run through `npm run test:package`');
  }
  return {
    root: PACKAGE_TEST_ROOT,
    tarball: PACKAGE_TEST_TARBALL,
    endpoint: PACKAGE_TEST_DYNAMODB_ENDPOINT,
  };
}

/** The `npm pack --json` entry the global setup saved next to the tarball. */
export interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number }[];
}

export function packResult(): PackResult {
  return JSON.parse(readFileSync(join(session().root, 'pack.json'), 'utf8')) as PackResult;
}

/** What `npm pack` (and the build its prepack ran) wrote to stderr. */
export const packStderr = () => readFileSync(join(session().root, 'pack.stderr'), 'utf8');

/** The lines of `output` that are npm warnings. */
export const npmWarnings = (output: string) =>
  output.split('\n').filter((line) => /^npm warn/i.test(line));

/** Variables that jest, `npm run` or the repository put in this process's environment. */
const NOT_A_USERS_SHELL = /^(npm_|NODE_OPTIONS$|NODE_ENV$|INIT_CWD$|JEST_WORKER_ID$|AWS_|CDK_)/;

/**
 * The environment of a user's shell: without what `npm run` and jest add (NODE_OPTIONS with
 * --disable-warning would hide the very warnings under test; the repository's
 * node_modules/.bin on the PATH would lend consumers this repository's tools, esbuild
 * included), and without any AWS settings, which the caller adds explicitly.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!NOT_A_USERS_SHELL.test(name)) env[name] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !/node_modules[\\/]\.bin|node-gyp-bin/.test(dir))
    .join(delimiter);
  return { ...env, ...extra };
}

export interface Run {
  /** The exit code; null when a signal (or the timeout) ended the process. */
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/**
 * Runs a command to completion in its own process group, so a timeout can stop the whole
 * tree it started (npm, npx and cdk all start children). Never rejects: a command that
 * cannot start reports its error on stderr with code null.
 */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[timed out after ${options.timeoutMs} ms]`;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, options.timeoutMs ?? 180_000);
    const finish = (code: number | null) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    };
    child.on('error', (err) => {
      stderr += String(err);
      finish(null);
    });
    child.on('close', finish);
  });
}

/** Throws with the command's whole output unless it exited 0, so a failure explains itself. */
export function succeeded(result: Run, what: string): Run {
  if (result.code !== 0) {
    throw new Error(
      `${what} exited with ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  }
  return result;
}

/** A fresh folder under the session root with its own package.json, as `npm init` leaves it. */
export function consumerFolder(name: string, packageJson: Record<string, unknown> = {}): string {
  const dir = join(session().root, name);
  mkdirSync(dir, { recursive: true });
  writePackageJson(dir, { name, version: '1.0.0', private: true, ...packageJson });
  return dir;
}

export function writePackageJson(dir: string, content: Record<string, unknown>): void {
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(content, null, 2)}\n`);
}

/**
 * `npm install SPECS` in `dir`, from the registry as for a user. Audit and funding notices
 * are off: they only report, and the audit is one more registry round trip per install.
 */
export async function npmInstall(dir: string, specs: string[]): Promise<Run> {
  const result = await run('npm', ['install', '--no-audit', '--no-fund', ...specs], {
    cwd: dir,
    timeoutMs: 300_000,
  });
  return succeeded(result, `npm install ${specs.join(' ')} in ${dir}`);
}

/** Name and folder of every package installed under `dir/node_modules`, nested ones included. */
export function installedPackages(dir: string): { name: string; path: string }[] {
  const found: { name: string; path: string }[] = [];
  const visit = (nodeModules: string) => {
    let entries: string[];
    try {
      entries = readdirSync(nodeModules);
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.startsWith('.')) continue;
      const folders = entry.startsWith('@')
        ? readdirSync(join(nodeModules, entry)).map((name) => join(nodeModules, entry, name))
        : [join(nodeModules, entry)];
      for (const folder of folders) {
        try {
          const { name } = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as {
            name: string;
          };
          found.push({ name, path: folder });
        } catch {
          continue;
        }
        visit(join(folder, 'node_modules'));
      }
    }
  };
  visit(join(dir, 'node_modules'));
  return found;
}

/** Disk usage of a folder as `du` counts it, in MB. */
export async function diskUsageMb(dir: string): Promise<number> {
  const { stdout } = succeeded(await run('du', ['-sk', dir], { cwd: dir }), `du ${dir}`);
  return Number(stdout.split(/\s/)[0]) / 1024;
}

/** Keeps one stage's figures for the summary the global teardown prints. */
export function recordFigures(stage: string, seconds?: number, details: string[] = []): void {
  writeFigure(session().root, { stage, seconds, details });
}
