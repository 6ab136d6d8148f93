import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockManager } from '../../lib/index.js';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import {
  documentClient,
  dynamoClient,
  endpoint,
  freshItemTable,
  freshLockTable,
} from '../support/dynamodb.js';
import { LOCKCTL, startLockctl } from '../support/lockctl.js';

let tableName: string;
let dir: string;

beforeAll(async () => {
  tableName = await freshLockTable();
  dir = mkdtempSync(join(tmpdir(), 'lockctl-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = (args: string[]) => startLockctl(args, tableName);
const lockctlRun = (args: string[]) => start(args).done;

/** The lock as DynamoDB has it, read past lockctl. */
async function lockState(lockId: string) {
  const doc = documentClient();
  try {
    return await new LockManager({ tableName, client: doc }).get(lockId);
  } finally {
    doc.destroy();
  }
}

/** A child that appends "start <ms>" and "end <ms>" lines around a pause. */
const section = (file: string, ms: number) => [
  process.execPath,
  '-e',
  `const fs=require('fs');fs.appendFileSync(${JSON.stringify(file)},'start '+Date.now()+' '+process.env.LOCK_TOKEN+'\\n');` +
    `setTimeout(()=>{fs.appendFileSync(${JSON.stringify(file)},'end '+Date.now()+'\\n')},${ms});`,
];

it('prints help with the exit codes', async () => {
  const { code, stdout } = await lockctlRun(['--help']);
  expect(code).toBe(0);
  for (const line of ['acquire', 'force-release', 'run LOCKID', '75', '76', '64', '69']) {
    expect(stdout).toContain(line);
  }
});

it('acquires, gets, renews and releases with JSON output', async () => {
  const acquired = await lockctlRun([
    'acquire',
    'cli-1',
    '--owner',
    'me',
    '--lease',
    '30s',
    '--json',
  ]);
  expect(acquired.code).toBe(0);
  const grant = JSON.parse(acquired.stdout);
  expect(grant).toMatchObject({ lockId: 'cli-1', owner: 'me', leaseMs: 30_000 });

  const got = JSON.parse((await lockctlRun(['get', 'cli-1', '--json'])).stdout);
  expect(got).toMatchObject({ held: true, owner: 'me', token: grant.token });

  const renewed = await lockctlRun([
    'renew',
    'cli-1',
    '--owner',
    'me',
    '--token',
    String(grant.token),
    '--lease',
    '1m',
    '--json',
  ]);
  expect(JSON.parse(renewed.stdout)).toMatchObject({ token: grant.token, leaseMs: 60_000 });

  const released = await lockctlRun([
    'release',
    'cli-1',
    '--owner',
    'me',
    '--token',
    String(grant.token),
    '--json',
  ]);
  expect(JSON.parse(released.stdout)).toEqual({ released: true });
});

it('exits 75 when the lock is held, and generates an owner when none is given', async () => {
  const first = await lockctlRun(['acquire', 'cli-2']);
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/owner: +lockctl-[0-9a-f-]{36}/);
  const second = await lockctlRun(['acquire', 'cli-2']);
  expect(second.code).toBe(75);
  expect(second.stderr).toMatch(/is held by lockctl-/);
});

it('exits 64 on bad input and changes nothing', async () => {
  const badLease = await lockctlRun(['acquire', 'cli-3', '--lease', 'soon']);
  expect(badLease.code).toBe(64);
  expect(badLease.stderr).toContain('--lease');
  const noToken = await lockctlRun(['release', 'cli-3', '--owner', 'x']);
  expect(noToken.code).toBe(64);
  expect((await lockState('cli-3')).held).toBe(false);
});

it('runs two commands on one lock one after the other, each seeing its own token', async () => {
  const file = join(dir, 'sections.log');
  const runs = [0, 1].map(() =>
    lockctlRun(['run', 'cli-run', '--wait', '30s', '--lease', '6s', '--', ...section(file, 1_500)]),
  );
  const results = await Promise.all(runs);
  for (const r of results) expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  expect(lines.map((l) => l.split(' ')[0])).toEqual(['start', 'end', 'start', 'end']);
  const [start1, end1, start2] = lines.map((l) => Number(l.split(' ')[1]));
  expect(end1).toBeGreaterThanOrEqual(start1);
  expect(start2).toBeGreaterThanOrEqual(end1);
  const [token1, token2] = [lines[0], lines[2]].map((l) => Number(l.split(' ')[2]));
  expect(token2).toBeGreaterThan(token1);
  expect((await lockState('cli-run')).held).toBe(false);
}, 60_000);

it("exits with the command's own exit code and releases the lock", async () => {
  const result = await lockctlRun([
    'run',
    'cli-exit',
    '--',
    process.execPath,
    '-e',
    'process.exit(7)',
  ]);
  expect(result.code).toBe(7);
  expect((await lockState('cli-exit')).held).toBe(false);
});

it('terminates the command and exits 76 when the lock is lost', async () => {
  const file = join(dir, 'lost.log');
  const child = `const fs=require('fs');fs.writeFileSync(${JSON.stringify(file)},'running\\n');process.on('SIGTERM',()=>{fs.appendFileSync(${JSON.stringify(file)},'sigterm\\n');process.exit(143)});setTimeout(()=>{},60000);`;
  const run = start([
    'run',
    'cli-lost',
    '--lease',
    '1500ms',
    '--grace',
    '2s',
    '--',
    process.execPath,
    '-e',
    child,
  ]);
  const doc = documentClient();
  const locks = new LockManager({ tableName, client: doc });
  for (let i = 0; i < 100 && !(await locks.get('cli-lost')).held; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(await locks.forceRelease('cli-lost')).toEqual({ released: true });
  const result = await run.done;
  expect(result.code).toBe(76);
  expect(result.stderr).toContain('lost the lock');
  expect(readFileSync(file, 'utf8')).toBe('running\nsigterm\n');
  doc.destroy();
}, 30_000);

/** lockctl with exactly these arguments: no table flags added. */
function lockctlBare(args: string[]) {
  const child = spawn(process.execPath, [LOCKCTL, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

describe('create-table', () => {
  it('creates the lock table as LockService does, and succeeds again when it exists', async () => {
    const name = `created-${randomUUID()}`;
    const first = await startLockctl(['create-table'], name).done;
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain(`created the lock table "${name}"`);
    const again = await startLockctl(['create-table', '--json'], name).done;
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ tableName: name, created: false });

    const ddb = dynamoClient();
    try {
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: name }));
      expect(Table?.KeySchema).toEqual([{ AttributeName: 'lockId', KeyType: 'HASH' }]);
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      const { TimeToLiveDescription } = await ddb.send(
        new DescribeTimeToLiveCommand({ TableName: name }),
      );
      expect(TimeToLiveDescription).toMatchObject({ AttributeName: 'ttl' });
    } finally {
      ddb.destroy();
    }
    // The new table serves locks.
    const acquired = await startLockctl(['acquire', 'fresh', '--json'], name).done;
    expect(acquired.code).toBe(0);
  });

  it('refuses a table of another shape and leaves it as it was', async () => {
    const orders = await freshItemTable('orders');
    const refused = await startLockctl(['create-table'], orders).done;
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain(
      `table "${orders}" is not a lock table: its key is id (S, HASH), a lock table's is lockId (S, HASH)`,
    );
    const ddb = dynamoClient();
    try {
      const { TimeToLiveDescription } = await ddb.send(
        new DescribeTimeToLiveCommand({ TableName: orders }),
      );
      expect(TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
    } finally {
      ddb.destroy();
    }
  });
});

describe('usage errors that name what is wrong', () => {
  it('refuses --dynamodb-endpoint without --table (exit 64), naming both', async () => {
    const result = await lockctlBare(['get', 'x', '--dynamodb-endpoint', endpoint()]);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/--dynamodb-endpoint needs --table NAME/);
  });

  it.each([
    ['--dynamodb-endpoint', ['--table', 't', '--dynamodb-endpoint', 'localhost:8000']],
    ['--endpoint', ['--endpoint', 'localhost:3000']],
  ])('refuses a %s without a scheme', async (flag, args) => {
    const result = await lockctlBare(['get', 'x', ...args]);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain(`${flag} must be a URL starting with http:// or https://`);
  });

  it.each([[['--lease', '-5s']], [['--lease=-5s']]])(
    'gives %j one clear message, not the whole help',
    async (lease) => {
      const result = await lockctlBare(['acquire', 'x', ...lease, '--table', 't']);
      expect(result.code).toBe(64);
      expect(result.stderr).toBe(
        'lockctl: invalid --lease: --lease must be a duration like 500ms, 30s, 5m or 1h, got "-5s"\n',
      );
    },
  );

  it('names the URL it could not reach', async () => {
    const api = await lockctlBare(['get', 'x', '--endpoint', 'http://127.0.0.1:9']);
    expect(api.code).toBe(69);
    expect(api.stderr).toContain('could not reach the lock API at http://127.0.0.1:9/locks/x');
    const ddb = await lockctlBare([
      'get',
      'x',
      '--table',
      't',
      '--dynamodb-endpoint',
      'http://127.0.0.1:9',
    ]);
    expect(ddb.code).toBe(69);
    expect(ddb.stderr).toContain('tried DynamoDB at http://127.0.0.1:9, table "t"');
  });
});
