// Plain Node consumers of the installed package: an ES module and a CommonJS script against
// DynamoDB Local, the lockctl binary, and what a client-only install weighs.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import {
  consumerFolder,
  diskUsageMb,
  installedPackages,
  npmInstall,
  npmWarnings,
  recordFigures,
  run,
  type Run,
  session,
  succeeded,
  userEnv,
} from './support/consumer.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
/** Packages only the constructs, the handler bundles' build or a TypeScript user need. */
const NOT_FOR_CLIENTS = [
  /^aws-cdk-lib$/,
  /^@aws-lambda-powertools\//,
  /^@middy\//,
  /^tsx$/,
  /^esbuild$/,
  /^@esbuild\//,
  /^typescript$/,
];

interface ScriptOutput {
  first: number;
  written: { status: string; lockToken: number };
  writtenKeys: string[];
  address: unknown;
  rejected: { name: string; isFencedWriteRejected: boolean; isValidationError: boolean } | null;
  released: boolean;
  second: number;
  refused: { name: string; token: number; acceptedToken: number } | null;
  finalStatus: string;
  state: { lockId: string; held: boolean; token?: number };
}

let dir: string;
let tarballInstall: Run;
let clientOnly: { names: string[]; megabytes: number };
let scripts: Record<'mjs' | 'cjs', Run>;
/** What the user exports to point the AWS SDK at DynamoDB Local; the scripts read nothing else. */
let awsEnv: Record<string, string>;

const tables = (kind: string) => ({
  locks: `locks-${kind}`,
  items: `orders-${kind}`,
  lockId: `orders/${kind}`,
});

function runScript(kind: 'mjs' | 'cjs'): Promise<Run> {
  const { locks, items, lockId } = tables(kind);
  return run(process.execPath, [`consumer.${kind}`, locks, items, lockId], {
    cwd: dir,
    env: userEnv(awsEnv),
    timeoutMs: 60_000,
  });
}

const lockctl = (args: string[]) =>
  run('npx', ['--no', '--', 'lockctl', ...args], {
    cwd: dir,
    env: userEnv(awsEnv),
    timeoutMs: 60_000,
  });

const directTable = (kind: string) => [
  '--table',
  tables(kind).locks,
  '--dynamodb-endpoint',
  session().endpoint,
];

beforeAll(async () => {
  awsEnv = {
    AWS_ENDPOINT_URL_DYNAMODB: session().endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    // The SDK's own notice that its 2027 releases will need Node 22 is not the package's
    // output; silenced the documented way so that any other warning fails the test.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  dir = consumerFolder('node-consumer');
  tarballInstall = await npmInstall(dir, [session().tarball]);
  // Weighed before the user's own dependency below, so it is the tarball's footprint alone.
  clientOnly = {
    names: installedPackages(dir).map((pkg) => pkg.name),
    megabytes: await diskUsageMb(join(dir, 'node_modules')),
  };
  recordFigures('client-only install', tarballInstall.seconds, [
    `${clientOnly.names.length} packages`,
    `${clientOnly.megabytes.toFixed(1)} MB node_modules`,
  ]);

  // The scripts import the SDK themselves, so the user declares it, as they would.
  await npmInstall(dir, ['@aws-sdk/client-dynamodb']);
  for (const kind of ['mjs', 'cjs']) {
    copyFileSync(join(FIXTURES, `consumer.${kind}`), join(dir, `consumer.${kind}`));
  }
  const started = performance.now();
  const [mjs, cjs] = await Promise.all([runScript('mjs'), runScript('cjs')]);
  scripts = { mjs, cjs };
  recordFigures('node scripts (ESM + CJS)', (performance.now() - started) / 1000);
}, 360_000);

describe('a client-only install (the tarball and nothing else)', () => {
  test('prints no npm warning, engine mismatches included', () => {
    const output = `${tarballInstall.stdout}\n${tarballInstall.stderr}`;
    expect(output).not.toMatch(/EBADENGINE/);
    expect(npmWarnings(output)).toEqual([]);
  });

  test('brings none of the CDK, the Lambda runtime libraries or the build tools', () => {
    expect(clientOnly.names).toContain('fenced-lock');
    expect(clientOnly.names).toContain('@aws-sdk/client-dynamodb');
    const unwanted = clientOnly.names.filter((name) => NOT_FOR_CLIENTS.some((re) => re.test(name)));
    expect(unwanted).toEqual([]);
  });
});

describe.each(['mjs', 'cjs'] as const)('a plain Node script (.%s)', (kind) => {
  const output = () =>
    JSON.parse(succeeded(scripts[kind], `node consumer.${kind}`).stdout) as ScriptOutput;

  test('creates the tables, locks, writes fenced with its token and releases', () => {
    const result = output();
    expect(result.written).toEqual({ status: 'paid', lockToken: result.first });
    expect(result.released).toBe(true);
    expect(result.second).toBeGreaterThan(result.first);
    expect(result.state).toEqual({
      lockId: tables(kind).lockId,
      held: false,
      token: result.second,
      // worker-a, then withLock's own generated owner: one change of hands.
      transitions: 1,
    });
  });

  test('skips undefined values in a fenced write at every depth', () => {
    const result = output();
    expect(result.writtenKeys).toEqual(['address', 'id', 'lockToken', 'status']);
    expect(result.address).toEqual({ city: 'Oslo' });
  });

  test("reports DynamoDB's own ValidationException as FencedWriteRejected", () => {
    expect(output().rejected).toEqual({
      name: 'FencedWriteRejected',
      isFencedWriteRejected: true,
      isValidationError: false,
    });
  });

  test("has a stale token's write refused with FencedOut", () => {
    const result = output();
    expect(result.refused).toEqual({
      name: 'FencedOut',
      token: result.first,
      acceptedToken: result.second,
    });
    expect(result.finalStatus).toBe('shipped');
  });

  test('writes nothing to stderr: no warning of any kind', () => {
    expect(scripts[kind].stderr).toBe('');
  });
});

describe('lockctl from the installed package', () => {
  test('--help exits 0 and prints the usage', async () => {
    const help = succeeded(await lockctl(['--help']), 'lockctl --help');
    expect(help.stdout).toMatch(/^Usage:/m);
    expect(help.stdout).toContain('lockctl acquire LOCKID');
  });

  test('get prints the state of the lock the ES module script used and released', async () => {
    const { stdout } = succeeded(
      await lockctl(['get', tables('mjs').lockId, ...directTable('mjs'), '--json']),
      'lockctl get',
    );
    const script = JSON.parse(scripts.mjs.stdout) as ScriptOutput;
    expect(JSON.parse(stdout)).toEqual({
      lockId: tables('mjs').lockId,
      held: false,
      token: script.second,
      transitions: 1,
    });
  });

  test('acquire, then get shows the lock held by that owner and token', async () => {
    const lockId = 'demo';
    const acquired = succeeded(
      await lockctl([
        'acquire',
        lockId,
        '--owner',
        'operator',
        '--lease',
        '1m',
        ...directTable('cjs'),
        '--json',
      ]),
      'lockctl acquire',
    );
    const grant = JSON.parse(acquired.stdout) as { owner: string; token: number };
    expect(grant.owner).toBe('operator');

    const got = succeeded(
      await lockctl(['get', lockId, ...directTable('cjs'), '--json']),
      'lockctl get',
    );
    expect(JSON.parse(got.stdout)).toMatchObject({
      lockId,
      held: true,
      owner: 'operator',
      token: grant.token,
    });
  });
});

describe("the README's package path: create-table, a first lock, the withLock example", () => {
  // The README's own environment for DynamoDB Local, with the session's endpoint for its
  // localhost:8000; lockctl gets no --dynamodb-endpoint, as in the README.
  const README_ENV = {
    AWS_ENDPOINT_URL_DYNAMODB: session().endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  };
  const readme = (args: string[]) =>
    run('npx', ['--no', '--', 'lockctl', ...args], {
      cwd: dir,
      env: userEnv(README_ENV),
      timeoutMs: 60_000,
    });

  test('creates the lock table (again: exit 0), and grants a first lock on it', async () => {
    const created = succeeded(await readme(['create-table', '--table', 'locks']), 'create-table');
    expect(created.stdout).toContain('created the lock table "locks"');
    const again = succeeded(await readme(['create-table', '--table', 'locks']), 'create-table');
    expect(again.stdout).toContain('the lock table already exists: "locks"');
    const acquired = succeeded(
      await readme(['acquire', 'demo', '--table', 'locks', '--lease', '1m']),
      'lockctl acquire',
    );
    expect(acquired.stdout).toMatch(/^acquired "demo"\n {2}owner: {3}lockctl-/);
    // From an empty folder: the install, then the README's two lockctl commands.
    recordFigures(
      'readme path: empty folder to a lock',
      tarballInstall.seconds + created.seconds + acquired.seconds,
      [
        `install ${tarballInstall.seconds.toFixed(1)} s`,
        `create-table ${created.seconds.toFixed(1)} s`,
        `acquire ${acquired.seconds.toFixed(1)} s`,
      ],
    );
  });

  test("runs the README's withLock example as pasted, on a new order", async () => {
    // The README's `aws dynamodb create-table ... orders`, as an SDK call.
    const ddb = new DynamoDBClient({
      endpoint: session().endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await ddb.send(
        new CreateTableCommand({
          TableName: 'orders',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        }),
      );
      const readmeText = readFileSync(join(dir, 'node_modules/fenced-lock/README.md'), 'utf8');
      const example = /^```ts\n(\/\/ ship-order\.mts\n[\s\S]*?)^```/m.exec(readmeText)?.[1];
      expect(example).toBeDefined();
      writeFileSync(join(dir, 'ship-order.mts'), example ?? '');
      await npmInstall(dir, ['tsx']);
      succeeded(
        await run('npx', ['--no', '--', 'tsx', 'ship-order.mts'], {
          cwd: dir,
          env: userEnv({ ...README_ENV, LOCK_TABLE_NAME: 'locks' }),
          timeoutMs: 60_000,
        }),
        'npx tsx ship-order.mts',
      );
      const { Item } = await ddb.send(
        new GetItemCommand({ TableName: 'orders', Key: { id: { S: '42' } }, ConsistentRead: true }),
      );
      // A new order has no items: `items: order.items` was undefined and skipped.
      expect(Object.keys(Item ?? {}).sort()).toEqual(['id', 'lockToken', 'status']);
      expect(Item?.status).toEqual({ S: 'shipped' });
    } finally {
      ddb.destroy();
    }
  }, 180_000);

  test('refuses to take a table of another shape for the lock table', async () => {
    const refused = await readme(['create-table', '--table', tables('mjs').items]);
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain('is not a lock table: its key is id (S, HASH)');
  });
});

describe('lockctl usage errors from the installed package', () => {
  test('--dynamodb-endpoint without --table is exit 64 naming both flags', async () => {
    const result = await lockctl(['get', 'x', '--dynamodb-endpoint', session().endpoint]);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('--dynamodb-endpoint needs --table NAME');
  });

  test('an endpoint without a scheme is refused, saying so', async () => {
    const result = await lockctl([
      'get',
      'x',
      '--table',
      't',
      '--dynamodb-endpoint',
      'localhost:8000',
    ]);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('--dynamodb-endpoint must be a URL starting with http://');
  });

  test.each([[['--lease', '-5s']], [['--lease=-5s']]])(
    '%j gets one clear message',
    async (lease) => {
      const result = await lockctl(['acquire', 'x', ...lease, ...directTable('cjs')]);
      expect(result.code).toBe(64);
      expect(result.stderr).toBe(
        'lockctl: invalid --lease: --lease must be a duration like 500ms, 30s, 5m or 1h, got "-5s"\n',
      );
    },
  );

  test('an unreachable API is named by its URL', async () => {
    const result = await lockctl(['get', 'x', '--endpoint', 'http://127.0.0.1:9']);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('could not reach the lock API at http://127.0.0.1:9/locks/x');
  });
});
