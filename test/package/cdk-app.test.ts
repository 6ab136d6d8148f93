// A CDK app laid out by today's `cdk init`, with the lock service added from the installed
// package, synthesized offline: the functions must deploy the handler bundles the package
// ships, unchanged, with no bundler and no Docker involved. The service is shared by two
// teams, each scoped to its lock id prefix on every way in, and an operator.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { WORKER_OPERATIONS } from '../../lib/contract/operations.js';
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

/** The execution cleanup's function, under `ExecutionCleanup<id>/`. */
const CLEANUP_FUNCTION = '/Function/Resource';

/** The teams of the fixture stack: construct id prefix and the lock id prefix of their scope. */
const TEAMS = [
  { name: 'TeamA', prefix: 'team-a/' },
  { name: 'TeamB', prefix: 'team-b/' },
] as const;

/** The template's resource of `type` whose construct path ends with `pathEnd`, with its logical id. */
function resourceAt(type: string, pathEnd: string): [string, Resource] {
  const found = ofType(type).filter(([, resource]) =>
    String(resource.Metadata?.['aws:cdk:path']).endsWith(pathEnd),
  );
  expect(found).toHaveLength(1);
  return found[0];
}

const lockFunction = (pathEnd: string) => resourceAt('AWS::Lambda::Function', pathEnd);

/** The logical ids a CloudFormation value refers to (`Ref`, `Fn::GetAtt`), pseudo parameters aside. */
function referencedIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedIds);
  if (typeof value !== 'object' || value === null) return [];
  const { Ref: ref, 'Fn::GetAtt': getAtt } = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown };
  if (typeof ref === 'string') return ref.startsWith('AWS::') ? [] : [ref];
  if (Array.isArray(getAtt)) return [String(getAtt[0])];
  return Object.values(value).flatMap(referencedIds);
}

/** The one logical id a property refers to, such as a function's `Role`. */
function referencedId(value: unknown): string {
  const ids = referencedIds(value);
  expect(ids).toHaveLength(1);
  return ids[0];
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of the template's IAM policies, with the logical ids of the roles it is on. */
function statements(): { roles: string[]; statement: Statement }[] {
  return ofType('AWS::IAM::Policy').flatMap(([, policy]) => {
    const { Roles, PolicyDocument } = policy.Properties as {
      Roles?: unknown;
      PolicyDocument: { Statement: Statement[] };
    };
    const roles = referencedIds(Roles);
    return PolicyDocument.Statement.map((statement) => ({ roles, statement }));
  });
}

/** The statements on the role with logical id `roleId`. */
const statementsOf = (roleId: string) =>
  statements()
    .filter(({ roles }) => roles.includes(roleId))
    .map(({ statement }) => statement);

const actionsOf = (statement: Statement) => [statement.Action].flat();
/** Whether the statement allows invoking a Lambda function (a wildcard action would too). */
const invokesFunctions = (statement: Statement) =>
  actionsOf(statement).some((action) => /^(lambda:(InvokeFunction|\*)|\*)$/.test(action));
const invokesApi = (statement: Statement) =>
  actionsOf(statement).some((action) => /^(execute-api:(Invoke|\*)|\*)$/.test(action));

/** A statement's resources, one entry each (a single resource is not wrapped in an array). */
const resourcesOf = (statement: Statement) => [statement.Resource].flat();

/**
 * The function ids each resource of the statements names, one per resource: a wildcard or
 * anything else but a function's ARN (or its versions', `<arn>:*`) fails the test.
 */
function invokedFunctions(granted: Statement[]): string[] {
  return granted.flatMap(resourcesOf).map((resource) => {
    const id = referencedId(resource);
    expect(resources[id]?.Type).toBe('AWS::Lambda::Function');
    return id;
  });
}

/** A function's environment variables (none: an empty record). */
const variablesOf = (functionId: string): Record<string, unknown> =>
  (resources[functionId].Properties as { Environment?: { Variables?: Record<string, unknown> } })
    .Environment?.Variables ?? {};

/** A function's scope: its `LOCK_PREFIXES` (a JSON array), or undefined for one serving all locks. */
function lockPrefixesOf(functionId: string): string[] | undefined {
  const prefixes = variablesOf(functionId).LOCK_PREFIXES;
  return prefixes === undefined ? undefined : (JSON.parse(String(prefixes)) as string[]);
}

/**
 * Who a direct function serves (`LOCK_CALLERS`): `workers` (never an execution's owner),
 * `sections` (only executions' owners), or undefined for any caller (the operators').
 */
const lockCallersOf = (functionId: string) => variablesOf(functionId).LOCK_CALLERS;

/** What a joined part refers to: a logical id, or a pseudo parameter such as `AWS::Region`. */
function referenceIn(part: unknown): string {
  const ref = (part as { Ref?: unknown }).Ref;
  return typeof ref === 'string' ? ref : referencedId(part);
}

/**
 * A string property as deployed, with each reference it joins written `<logicalId>` (or
 * `<AWS::Region>`...): a `Fn::Join` of literals and `Ref`s or `Fn::GetAtt`s, or a plain string.
 */
function rendered(value: unknown): string {
  if (typeof value === 'string') return value;
  const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts
    .map((part) => (typeof part === 'string' ? part : `<${referenceIn(part)}>`))
    .join(separator);
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

  test('has the lock functions, the execution cleanup and the locked state machines', () => {
    // The API's, the workers' direct one, the operators' direct one, the sections' one (of all
    // locks) and the cleanup, once each.
    const [apiId] = lockFunction('/Locks/ApiFunction/Resource');
    const [directId] = lockFunction('/Locks/DirectFunction/Resource');
    const [operatorId] = lockFunction('/Locks/OperatorFunction/Resource');
    const [sectionId] = lockFunction('/Locks/SectionFunction/Resource');
    const [cleanupId] = lockFunction(CLEANUP_FUNCTION);
    expect(lockCallersOf(directId)).toBe('workers');
    expect(lockCallersOf(sectionId)).toBe('sections');
    expect(lockCallersOf(operatorId)).toBeUndefined();
    // No function beyond those, the teams' own workers and functions of the teams' scopes, the
    // workers' and the sections' (how many of those the scopes take is the constructs' business).
    const workers = TEAMS.map(({ name }) => lockFunction(`/${name}Worker/Resource`)[0]);
    const functions = ofType('AWS::Lambda::Function').map(([id]) => id);
    const unscoped = functions.filter((id) => lockPrefixesOf(id) === undefined);
    expect(new Set(unscoped)).toEqual(
      new Set([apiId, directId, operatorId, sectionId, cleanupId, ...workers]),
    );
    const scoped = functions.filter((fn) => !unscoped.includes(fn));
    for (const id of scoped) {
      expect(TEAMS.map(({ prefix }) => [prefix])).toContainEqual(lockPrefixesOf(id));
      expect(['workers', 'sections']).toContain(lockCallersOf(id));
    }
    // Each team's scope has a function of each kind.
    for (const { prefix } of TEAMS) {
      const callers = scoped
        .filter((id) => lockPrefixesOf(id)?.[0] === prefix)
        .map((id) => lockCallersOf(id));
      expect(new Set(callers)).toEqual(new Set(['workers', 'sections']));
    }

    // The app's state machines: the single-team one and one per team.
    const machines = ofType('AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(1 + TEAMS.length);
    const [, nightly] = resourceAt('AWS::StepFunctions::StateMachine', '/NightlyReport/Resource');
    // The single-team locked section, given the workers' direct function, invokes the
    // sections' one of all locks instead: the workers' refuses executions' owners. Its role
    // may invoke that one only.
    const named = referencedIds(nightly.Properties?.DefinitionString).filter(
      (id) => resources[id]?.Type === 'AWS::Lambda::Function',
    );
    expect(new Set(named)).toEqual(new Set([sectionId]));
    const nightlyGrants = statementsOf(referencedId(nightly.Properties?.RoleArn));
    expect(new Set(invokedFunctions(nightlyGrants.filter(invokesFunctions)))).toEqual(
      new Set([sectionId]),
    );
    // Ended executions of every one of them start the cleanup function.
    const rules = ofType('AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const rule = JSON.stringify(rules[0][1].Properties);
    for (const [machineId] of machines) expect(rule).toContain(machineId);
    expect(rule).toContain(cleanupId);
  });

  test.each([
    ['/Locks/ApiFunction/Resource', 'api'],
    ['/Locks/DirectFunction/Resource', 'direct'],
    ['/Locks/SectionFunction/Resource', 'direct'],
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

describe('a cdk init app sharing the lock service between two scopes and an operator', () => {
  const others = (prefix: string) =>
    TEAMS.map((team) => team.prefix).filter((other) => other !== prefix);

  test.each(TEAMS)(
    "$name's role uses the table only on ids starting $prefix",
    ({ name, prefix }) => {
      const [roleId] = resourceAt('AWS::IAM::Role', `/${name}Role/Resource`);
      const own = statementsOf(roleId);
      const table = own.filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('dynamodb:')),
      );
      expect(table.length).toBeGreaterThan(0);
      for (const statement of table) {
        expect(statement.Condition).toEqual({
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${prefix}*`] },
        });
      }
      for (const other of others(prefix)) expect(JSON.stringify(own)).not.toContain(other);
      // Its API grant is the workers' routes: no force release, no direct function.
      expect(JSON.stringify(own.filter(invokesApi))).not.toContain('/DELETE/');
      expect(own.filter(invokesFunctions)).toEqual([]);
    },
  );

  test('LOCK_API_SCOPES on the API function names both roles, each with its own prefix', () => {
    const [, api] = lockFunction('/Locks/ApiFunction/Resource');
    const variables = (api.Properties as { Environment: { Variables: Record<string, unknown> } })
      .Environment.Variables;
    const scopes = JSON.parse(rendered(variables.LOCK_API_SCOPES)) as unknown[];
    expect(scopes).toHaveLength(TEAMS.length);
    expect(scopes).toEqual(
      expect.arrayContaining(
        TEAMS.map(({ name, prefix }) => ({
          principal: `<${resourceAt('AWS::IAM::Role', `/${name}Role/Resource`)[0]}>`,
          prefixes: [prefix],
          // the handler also refuses what the grant does not name: a worker's force release
          operations: [...WORKER_OPERATIONS],
        })),
      ),
    );
    // The operator is named apart: its own scope, if it had one, would not narrow it.
    const operators = JSON.parse(rendered(variables.LOCK_API_OPERATORS)) as unknown[];
    expect(operators).toEqual([`<${resourceAt('AWS::IAM::Role', '/OnCallRole/Resource')[0]}>`]);
  });

  test.each(TEAMS)(
    "$name's worker may invoke only a workers' function serving exactly $prefix",
    ({ name, prefix }) => {
      const [, worker] = lockFunction(`/${name}Worker/Resource`);
      const granted = statementsOf(referencedId(worker.Properties?.Role)).filter(invokesFunctions);
      const invoked = invokedFunctions(granted);
      expect(invoked.length).toBeGreaterThan(0);
      for (const id of invoked) {
        expect(lockPrefixesOf(id)).toEqual([prefix]);
        // A workers' function: never one that acts for executions.
        expect(lockCallersOf(id)).toBe('workers');
      }
    },
  );

  // Which function a section invokes, and how many, is the construct's choice: only their
  // scope is asserted.
  test.each(TEAMS)(
    "$name's state machine may invoke only sections' functions serving exactly $prefix",
    ({ name, prefix }) => {
      const [, machine] = resourceAt('AWS::StepFunctions::StateMachine', `/${name}Jobs/Resource`);
      const granted = statementsOf(referencedId(machine.Properties?.RoleArn)).filter(
        invokesFunctions,
      );
      const invoked = invokedFunctions(granted);
      expect(invoked.length).toBeGreaterThan(0);
      // A sections' function: the workers' refuse executions' owners.
      for (const id of invoked) {
        expect(lockPrefixesOf(id)).toEqual([prefix]);
        expect(lockCallersOf(id)).toBe('sections');
      }
      // And its definition names no other function.
      const named = referencedIds(machine.Properties?.DefinitionString).filter(
        (id) => resources[id]?.Type === 'AWS::Lambda::Function',
      );
      expect(named.length).toBeGreaterThan(0);
      for (const id of named) {
        expect(lockPrefixesOf(id)).toEqual([prefix]);
        expect(lockCallersOf(id)).toBe('sections');
      }
    },
  );

  test("the state machines' roles alone may invoke the sections' functions", () => {
    const sectionFunctions = ofType('AWS::Lambda::Function')
      .map(([id]) => id)
      .filter((id) => lockCallersOf(id) === 'sections');
    expect(sectionFunctions).toHaveLength(1 + TEAMS.length);
    const machineRoles = ofType('AWS::StepFunctions::StateMachine').map(([, machine]) =>
      referencedId(machine.Properties?.RoleArn),
    );
    const invokers = statements()
      .filter(
        ({ statement }) =>
          invokesFunctions(statement) &&
          resourcesOf(statement).some((resource) =>
            referencedIds(resource).some((id) => sectionFunctions.includes(id)),
          ),
      )
      .flatMap(({ roles }) => roles);
    expect(new Set(invokers)).toEqual(new Set(machineRoles));
    // Nor a resource policy letting anything else invoke them.
    const permissions = ofType('AWS::Lambda::Permission').filter(([, permission]) =>
      referencedIds(permission.Properties?.FunctionName).some((id) =>
        sectionFunctions.includes(id),
      ),
    );
    expect(permissions).toEqual([]);
  });

  test('the operator role alone may invoke the operator function and the DELETE route', () => {
    const [operatorId] = lockFunction('/Locks/OperatorFunction/Resource');
    const [onCallId] = resourceAt('AWS::IAM::Role', '/OnCallRole/Resource');
    const all = statements();
    const rolesWhere = (allows: (statement: Statement) => boolean) => [
      ...new Set(all.filter(({ statement }) => allows(statement)).flatMap(({ roles }) => roles)),
    ];
    expect(
      rolesWhere(
        (statement) =>
          invokesFunctions(statement) &&
          resourcesOf(statement).some((resource) => referencedIds(resource).includes(operatorId)),
      ),
    ).toEqual([onCallId]);
    expect(
      rolesWhere(
        (statement) =>
          invokesApi(statement) && JSON.stringify(resourcesOf(statement)).includes('/DELETE/'),
      ),
    ).toEqual([onCallId]);
    // Every API grant names its method (`arn:...:<api>/<stage>/POST/locks/*/acquire`): a
    // wildcard method, or a wildcard resource, would cover DELETE too.
    const apiResources = all
      .filter(({ statement }) => invokesApi(statement))
      .flatMap(({ statement }) => resourcesOf(statement));
    expect(apiResources.length).toBeGreaterThan(0);
    for (const resource of apiResources) {
      const [, , method] = rendered(resource).split('/');
      expect(method).toMatch(/^(GET|POST|DELETE)$/);
    }
    // Nor a resource policy letting anything else invoke the operator function.
    const permissions = ofType('AWS::Lambda::Permission').filter(([, permission]) =>
      referencedIds(permission.Properties?.FunctionName).includes(operatorId),
    );
    expect(permissions).toEqual([]);
  });
});
