// TypeScript consumers: the package's declarations must type-check in a user's project under
// the common module settings, with the user's compiler checking them (skipLibCheck off).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  consumerFolder,
  npmInstall,
  recordFigures,
  run,
  type Run,
  session,
  succeeded,
  writePackageJson,
} from './support/consumer.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

/** Strict, the user's own lib checks on, and the default `lib` of an ES2022 target. */
const BASE_OPTIONS = { strict: true, target: 'ES2022', skipLibCheck: false, noEmit: true };

interface Project {
  /** `type` of the project's package.json, which decides how NodeNext reads its files. */
  type: 'module' | 'commonjs';
  compilerOptions: Record<string, unknown>;
  /** Fixture files, or README for every TypeScript example of the installed README. */
  sources: string[] | 'README';
}

/** What every project checks: the root entry, `fenced-lock/cdk` and `fenced-lock/middy`. */
const CONSUMERS = ['consumer.ts', 'middy-consumer.ts'];

const PROJECTS = {
  'nodenext-esm': {
    type: 'module',
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' },
    sources: CONSUMERS,
  },
  'nodenext-cjs': {
    type: 'commonjs',
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' },
    sources: CONSUMERS,
  },
  'bundler-preserve': {
    type: 'module',
    compilerOptions: { module: 'Preserve', moduleResolution: 'Bundler' },
    sources: CONSUMERS,
  },
  // `module: commonjs` alone implies the classic node10 resolution, which reads no `exports`.
  'commonjs-node10': {
    type: 'commonjs',
    compilerOptions: { module: 'CommonJS' },
    sources: CONSUMERS,
  },
  'readme-examples': {
    type: 'module',
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' },
    sources: 'README',
  },
  'type-error': {
    type: 'module',
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' },
    sources: ['type-error.ts'],
  },
} satisfies Record<string, Project>;
type ProjectName = keyof typeof PROJECTS;

let dir: string;
let checksStarted: number;
const checks = new Map<ProjectName, Promise<Run>>();

/** The ```ts blocks of the README as installed, each one file as a user would paste it. */
function readmeExamples(): string[] {
  const readme = readFileSync(join(dir, 'node_modules/fenced-lock/README.md'), 'utf8');
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map(([, code]) => code);
}

/** A sub-project with its own package.json and tsconfig.json, sharing the one install. */
function writeProject(name: ProjectName): void {
  const { type, compilerOptions, sources } = PROJECTS[name];
  const projectDir = join(dir, name);
  mkdirSync(join(projectDir, 'src'), { recursive: true });
  writePackageJson(projectDir, { name, private: true, type });
  writeFileSync(
    join(projectDir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { ...BASE_OPTIONS, ...compilerOptions }, include: ['src'] }),
  );
  if (sources === 'README') {
    readmeExamples().forEach((code, i) =>
      writeFileSync(join(projectDir, 'src', `readme-${i + 1}.ts`), code),
    );
  } else {
    for (const source of sources)
      copyFileSync(join(FIXTURES, source), join(projectDir, 'src', source));
  }
}

/**
 * `npx tsc` from the install's root: npx run inside a sub-project would take its package.json
 * for the project root, miss the installed tsc and try the registry.
 */
const typeCheck = (name: ProjectName) =>
  run('npx', ['--no', '--', 'tsc', '--noEmit', '-p', name], { cwd: dir, timeoutMs: 240_000 });

const output = (result: Run) => `${result.stdout}${result.stderr}`;

beforeAll(async () => {
  dir = consumerFolder('typescript-consumers');
  const install = await npmInstall(dir, [
    session().tarball,
    'typescript@~5.9',
    '@types/node@^20',
    'aws-cdk-lib',
    'constructs',
    // The README's middy example's own imports, as its user installs them.
    '@middy/core',
    '@types/aws-lambda',
  ]);
  recordFigures('typescript: npm install', install.seconds);
  checksStarted = performance.now();
  // All at once; each test awaits its own.
  for (const name of Object.keys(PROJECTS) as ProjectName[]) {
    writeProject(name);
    checks.set(name, typeCheck(name));
  }
}, 360_000);

afterAll(async () => {
  await Promise.all(checks.values());
  recordFigures(
    `typescript: ${checks.size} tsc runs (parallel)`,
    (performance.now() - checksStarted) / 1000,
  );
});

test('the compiler is the TypeScript 5.9 the consumer asked for', async () => {
  const { stdout } = succeeded(
    await run('npx', ['--no', '--', 'tsc', '--version'], { cwd: dir }),
    'tsc --version',
  );
  expect(stdout).toMatch(/^Version 5\.9\./);
});

describe.each([
  ['NodeNext in an ES module package', 'nodenext-esm'],
  ['NodeNext in a CommonJS package', 'nodenext-cjs'],
  ['Bundler resolution with module Preserve', 'bundler-preserve'],
  ['module CommonJS with its classic node10 resolution', 'commonjs-node10'],
] as const)('%s', (_title, name) => {
  test('type-checks withLock, the typed errors, fenced-lock/cdk and fenced-lock/middy', async () => {
    const result = (await checks.get(name)) as Run;
    expect(output(result)).toBe('');
    expect(result.code).toBe(0);
  }, 240_000);
});

test('type-checks every TypeScript example of the installed README as pasted', async () => {
  expect(readmeExamples().length).toBeGreaterThanOrEqual(4);
  const result = (await checks.get('readme-examples')) as Run;
  expect(output(result)).toBe('');
  expect(result.code).toBe(0);
}, 240_000);

test('a type error against the declarations fails the check', async () => {
  const result = (await checks.get('type-error')) as Run;
  expect(result.code).not.toBe(0);
  expect(output(result)).toMatch(
    /type-error\.ts\(\d+,\d+\): error TS2339: Property 'toUpperCase' does not exist on type 'number'/,
  );
}, 240_000);
