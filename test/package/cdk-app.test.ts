// A CDK app laid out by today's `cdk init`, with the lock service added from the installed
// package, synthesized offline: the functions must deploy the handler bundles the package
// ships, unchanged, with no bundler and no Docker involved.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import {
  installedPackages,
  npmInstall,
  recordFigures,
  run,
  type Run,
  session,
  succeeded,
  userEnv,
} from './support/consumer.js';

const REPO = new URL('../..', import.meta.url).pathname;
const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
/** The folder's name decides what `cdk init` generates: bin/cdk-app.ts, lib/cdk-app-stack.ts. */
const APP_NAME = 'cdk-app';
const STACK_FILE = `lib/${APP_NAME}-stack.ts`;

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

let dir: string;
let synth: Run;
let resources: Record<string, Resource>;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const ofType = (type: string) =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type);
const shippedAsset = (name: 'api' | 'direct' | 'cleanup') =>
  join(dir, 'node_modules/fenced-lock/dist/assets', name);

/** The template's function whose construct path ends with `pathEnd`, with its logical id. */
/** The execution cleanup's function, under `ExecutionCleanup<id>/`. */
const CLEANUP_FUNCTION = '/Function/Resource';

function lockFunction(pathEnd: string): [string, Resource] {
  const found = ofType('AWS::Lambda::Function').filter(([, fn]) =>
    String(fn.Metadata?.['aws:cdk:path']).endsWith(pathEnd),
  );
  expect(found).toHaveLength(1);
  return found[0];
}

interface NpmTree {
  dependencies?: Record<string, NpmTree>;
}

/** Every chain of package names from the app down to a package named `name`, in `npm ls --json`. */
function dependencyChains(tree: NpmTree, name: string, above: string[] = []): string[][] {
  return Object.entries(tree.dependencies ?? {}).flatMap(([dependency, subtree]) => {
    const chain = [...above, dependency];
    return dependency === name ? [chain] : dependencyChains(subtree, name, chain);
  });
}

/** `cdk init` from this repository's aws-cdk CLI; --generate-only skips git and npm install. */
async function cdkInit(): Promise<Run> {
  mkdirSync(dir);
  return succeeded(
    await run(
      join(REPO, 'node_modules/.bin/cdk'),
      ['init', 'app', '--language', 'typescript', '--generate-only'],
      { cwd: dir, env: userEnv({ CDK_DISABLE_CLI_TELEMETRY: 'true' }), timeoutMs: 60_000 },
    ),
    'cdk init',
  );
}

/**
 * `cdk synth` with no way out: no AWS credentials or region, a Docker that does not exist (so
 * a bundling fallback would fail rather than be skipped), and no notices or telemetry.
 */
const cdkSynth = () =>
  run('npx', ['--no', '--', 'cdk', 'synth', '--no-notices'], {
    cwd: dir,
    env: userEnv({ CDK_DOCKER: '/nonexistent/docker', CDK_DISABLE_CLI_TELEMETRY: 'true' }),
    timeoutMs: 240_000,
  });

beforeAll(async () => {
  dir = join(session().root, APP_NAME);
  const init = await cdkInit();
  // The generated stack is replaced by one using the package; bin/ and the rest stay as generated.
  expect(readFileSync(join(dir, STACK_FILE), 'utf8')).toContain('export class CdkAppStack');
  copyFileSync(join(FIXTURES, 'cdk-app-stack.ts'), join(dir, STACK_FILE));
  const install = await npmInstall(dir, [session().tarball]);
  synth = await cdkSynth();
  recordFigures('cdk app: init', init.seconds);
  recordFigures('cdk app: npm install', install.seconds, [
    `${installedPackages(dir).length} packages`,
  ]);
  recordFigures('cdk app: synth (tsc + tsx + cdk)', synth.seconds);
  if (synth.code === 0) {
    const template = JSON.parse(
      readFileSync(join(dir, 'cdk.out/CdkAppStack.template.json'), 'utf8'),
    ) as { Resources: Record<string, Resource> };
    resources = template.Resources;
  }
}, 420_000);

describe('a cdk init app using fenced-lock/cdk', () => {
  test('synthesizes offline, without bundling or warnings', () => {
    succeeded(synth, 'cdk synth');
    expect(synth.stderr).not.toMatch(/Bundling asset|\[Warning at|docker/i);
  });

  test('has the three lock functions, the execution cleanup and the locked state machine', () => {
    // The API's, the workers' direct one and the operators' direct one, and the cleanup.
    expect(ofType('AWS::Lambda::Function')).toHaveLength(4);
    const [directId] = lockFunction('/Locks/DirectFunction/Resource');
    lockFunction('/Locks/ApiFunction/Resource');
    lockFunction('/Locks/OperatorFunction/Resource');
    const [cleanupId] = lockFunction(CLEANUP_FUNCTION);
    const machines = ofType('AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(1);
    // The locked section invokes the direct function.
    expect(JSON.stringify(machines[0][1].Properties?.DefinitionString)).toContain(directId);
    // Its ended executions start the cleanup function.
    const rules = ofType('AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    expect(JSON.stringify(rules[0][1].Properties)).toContain(machines[0][0]);
    expect(JSON.stringify(rules[0][1].Properties)).toContain(cleanupId);
  });

  test.each([
    ['/Locks/ApiFunction/Resource', 'api'],
    ['/Locks/DirectFunction/Resource', 'direct'],
    [CLEANUP_FUNCTION, 'cleanup'],
  ] as const)('%s deploys the shipped %s bundle byte for byte, unbundled', (path, asset) => {
    const [, fn] = lockFunction(path);
    expect(fn.Metadata?.['aws:asset:is-bundled']).toBe(false);
    const deployed = join(dir, 'cdk.out', String(fn.Metadata?.['aws:asset:path']));
    expect(readdirSync(deployed).sort()).toEqual(readdirSync(shippedAsset(asset)).sort());
    expect(sha256(join(deployed, 'index.mjs'))).toBe(
      sha256(join(shippedAsset(asset), 'index.mjs')),
    );
    expect(
      readFileSync(join(deployed, 'index.mjs')).equals(
        readFileSync(join(shippedAsset(asset), 'index.mjs')),
      ),
    ).toBe(true);
  });

  test('installs a single copy of each peer dependency', async () => {
    for (const peer of ['aws-cdk-lib', 'constructs']) {
      const ls = succeeded(
        await run('npm', ['ls', peer, '--all', '--parseable'], { cwd: dir }),
        `npm ls ${peer}`,
      );
      expect(new Set(ls.stdout.trim().split('\n'))).toEqual(
        new Set([join(dir, 'node_modules', peer)]),
      );
      const copies = installedPackages(dir).filter((pkg) => pkg.name === peer);
      expect(copies.map((pkg) => pkg.path)).toEqual([join(dir, 'node_modules', peer)]);
    }
  });

  // Every cdk init app has esbuild: its tsx depends on it. What matters is that fenced-lock
  // brings no bundler (and, per is-bundled above, nothing bundled).
  test('gets no esbuild through fenced-lock (the copy there is comes with tsx)', async () => {
    const ls = await run('npm', ['ls', 'esbuild', '--all', '--json'], { cwd: dir });
    const chains = dependencyChains(JSON.parse(ls.stdout) as NpmTree, 'esbuild');
    expect(chains.filter((chain) => chain.includes('fenced-lock'))).toEqual([]);
    expect(chains).toContainEqual(['tsx', 'esbuild']);
  });
});
