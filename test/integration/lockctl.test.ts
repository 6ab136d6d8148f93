import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockManager } from '../../lib/index.js';
import { documentClient, freshLockTable } from '../support/dynamodb.js';
import { startLockctl } from '../support/lockctl.js';

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
