import { type ChildProcess, spawn } from 'node:child_process';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { createInvokeHandler } from '../../lambdas/direct/invoke.js';
import { readConfig } from '../../lambdas/service/config.js';
import { LockUseCase } from '../../lambdas/service/lock-use-case.js';
import { createDocumentClient, LockHeld, LockManager } from '../../lib/core/index.js';
import { LockClient } from '../../lib/index.js';
import { startLocalLambda } from '../../local/lambda-endpoint.js';
import { WAITING } from '../../lib/core/waiting.js';
import {
  countRequests,
  documentClient,
  dynamoClient,
  endpoint,
  freshLockTable,
} from '../support/dynamodb.js';

let tableName: string;
const doc = documentClient();
let seq = 0;
const name = (label: string) => `wait-${label}-${++seq}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const WORKER = new URL('../support/wait-worker.ts', import.meta.url).pathname;
/** The stated bound (docs/protocol.md), and what a loaded test machine may add to it. */
const BOUND_MS = WAITING.progressBoundMs;
const ALLOWANCE_MS = 1_000;

beforeAll(async () => {
  tableName = await freshLockTable('waiting');
});
afterAll(() => doc.destroy());

const manager = () => new LockManager({ tableName, client: doc });

/**
 * The first slot as a waiter that then died leaves it: next in line, its last heartbeat at
 * `seenAt`.
 */
async function plantSilentWaiter(lockId: string, owner: string, seenAt: number): Promise<void> {
  await doc.send(
    new UpdateCommand({
      TableName: tableName,
      Key: { lockId },
      UpdateExpression: 'SET waiter = :w, waiterSeen = :at, waiterSince = :at',
      ExpressionAttributeValues: { ':w': owner, ':at': seenAt },
    }),
  );
}

/** A worker process (test/support/wait-worker.ts) and the JSON lines it has printed so far. */
function startWorker(args: string[]): { child: ChildProcess; lines: Record<string, unknown>[] } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', WORKER, endpoint(), tableName, ...args],
    {
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines: Record<string, unknown>[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      lines.push(JSON.parse(buffer.slice(0, at)) as Record<string, unknown>);
      buffer = buffer.slice(at + 1);
    }
  });
  return { child, lines };
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * `waiters` callers in separate processes wait for a held lock and are killed while they wait;
 * then the holder releases. Resolves with the lock id and the instant of the release.
 */
async function killWaitersThenRelease(label: string, waiters: number) {
  const lockId = name(label);
  const locks = manager();
  const holder = await locks.acquire(lockId, { owner: 'holder', leaseMs: 120_000 });
  const processes = Math.min(4, waiters);
  const workers = Array.from({ length: processes }, (_, p) => {
    const count = Math.floor(waiters / processes) + (p < waiters % processes ? 1 : 0);
    return startWorker([lockId, 'wait', `dead${p}`, String(count)]);
  });
  try {
    await until(() => workers.every((w) => w.lines.length > 0), 30_000, 'the waiters to start');
    await until(async () => ((await locks.get(lockId)).waiting ?? 0) > 0, 10_000, 'a waiter next');
    // Long enough for every waiter to have made its first moves (looks, slot claims).
    await sleep(2 * WAITING.othersMaxMs);
  } finally {
    for (const { child } of workers) child.kill('SIGKILL');
    await Promise.all(workers.map(({ child }) => exited(child)));
  }
  await locks.release(lockId, holder);
  return { lockId, releasedAt: Date.now(), locks };
}

describe('waiting for a lock: what a caller leaves behind', () => {
  it.each([1, 10, 100])(
    'a try-lock 1 s after the release is granted although %i waiters died waiting',
    async (waiters) => {
      const { lockId, releasedAt, locks } = await killWaitersThenRelease('dead-try', waiters);
      await sleep(Math.max(0, releasedAt + BOUND_MS - Date.now()));
      const grant = await locks.acquire(lockId, { owner: 'try-lock' });
      expect(grant.owner).toBe('try-lock');
    },
  );

  it.each([1, 10, 100])(
    'a waiting acquire made at the release is granted within the bound although %i waiters died',
    async (waiters) => {
      const { lockId, releasedAt, locks } = await killWaitersThenRelease('dead-wait', waiters);
      const grant = await locks.acquire(lockId, { owner: 'patient', waitMs: 30_000 });
      expect(grant.owner).toBe('patient');
      // The old ticket queue took 250 ms per dead waiter here: 25 s for 100.
      expect(Date.now() - releasedAt).toBeLessThan(BOUND_MS + ALLOWANCE_MS);
    },
  );

  it('grants a try-lock at once after a waiter next in line gave up', async () => {
    const lockId = name('gave-up');
    const locks = manager();
    const holder = await locks.acquire(lockId, { owner: 'holder', leaseMs: 60_000 });
    const patient = locks.acquire(lockId, { owner: 'patient', waitMs: 1_500 });
    await sleep(100);
    const impatient = locks.acquire(lockId, { owner: 'impatient', waitMs: 300 });
    await expect(impatient).rejects.toBeInstanceOf(LockHeld);
    await expect(patient).rejects.toBeInstanceOf(LockHeld);
    await locks.release(lockId, holder);
    // Both gave up, taking their state with them: no waiting and no window to sit out.
    expect((await locks.get(lockId)).waiting).toBeUndefined();
    expect((await locks.acquire(lockId, { owner: 'try-lock' })).owner).toBe('try-lock');
  });

  it('refuses a try-lock behind a live waiter only until that waiter goes silent', async () => {
    const lockId = name('silent');
    const locks = manager();
    await locks.release(lockId, await locks.acquire(lockId, { owner: 'a' }));
    // The slot as a waiter that then died leaves it (its last heartbeat now).
    const diedAt = Date.now();
    await plantSilentWaiter(lockId, 'dead', diedAt);
    const refusal = await locks.acquire(lockId, { owner: 'b' }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(LockHeld);
    expect(refusal).toMatchObject({ owner: '', waiting: 1 });
    // It says when to ask again: when the waiter would count as gone, never "at once".
    const { retryAfterMs } = refusal as LockHeld;
    expect(retryAfterMs).toBeGreaterThanOrEqual(WAITING.floorMs);
    expect(retryAfterMs).toBeLessThanOrEqual(BOUND_MS);
    await sleep(Math.max(0, diedAt + BOUND_MS - Date.now()));
    expect((await locks.acquire(lockId, { owner: 'b' })).owner).toBe('b');
    expect((await locks.get(lockId)).waiting).toBeUndefined();
  });

  it('keeps granting to impatient callers arriving faster than they wait', async () => {
    const lockId = name('impatient');
    const locks = manager();
    await locks.release(lockId, await locks.acquire(lockId, { owner: 'a' }));
    await plantSilentWaiter(lockId, 'dead', Date.now());
    // One caller every 150 ms, each waiting 200 ms and holding 20 ms (the old queue: 0 grants).
    let grants = 0;
    const callers: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      callers.push(
        locks
          .acquire(lockId, { owner: `c${i}`, waitMs: 200 })
          .then(async (grant) => {
            grants++;
            await sleep(20);
            await locks.release(lockId, grant);
          })
          .catch((err: unknown) => {
            if (!(err instanceof LockHeld)) throw err;
          }),
      );
      await sleep(150);
    }
    await Promise.all(callers);
    expect(grants).toBeGreaterThanOrEqual(10);
  });
});

describe('waiting for a lock: bounded loops', () => {
  it('sleeps between looks and keeps its deadline while the item is deleted and made again', async () => {
    const lockId = name('deleted');
    const ddb = dynamoClient();
    const counter = countRequests(ddb);
    const waiterLocks = new LockManager({ tableName, client: createDocumentClient(ddb) });
    const locks = manager();
    await locks.acquire(lockId, { owner: 'first', leaseMs: 60_000 });
    const started = Date.now();
    const waiting = waiterLocks
      .acquire(lockId, { owner: 'waiter', waitMs: 1_500 })
      .catch((e: unknown) => e);
    await sleep(300);
    // TTL deletes the item and a new holder makes it again, between two looks of the waiter:
    // the slots it held are gone.
    const now = Date.now();
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { lockId, owner: 'second', token: now, expiresAt: now + 60_000, leaseMs: 60_000 },
      }),
    );
    const outcome = await waiting;
    const elapsed = Date.now() - started;
    expect(outcome).toBeInstanceOf(LockHeld);
    expect((outcome as LockHeld).owner).toBe('second');
    expect(elapsed).toBeGreaterThanOrEqual(1_500);
    expect(elapsed).toBeLessThan(1_500 + ALLOWANCE_MS);
    // Each look sleeps at least the floor: far below one request per ms (the old loop: 446 in 4 s).
    expect(counter.total()).toBeLessThan(1_500 / WAITING.floorMs / 2);
    ddb.destroy();
  });

  it('keeps the uncontended acquire, renew and release at one request each', async () => {
    const ddb = dynamoClient();
    const counter = countRequests(ddb);
    const locks = new LockManager({ tableName, client: createDocumentClient(ddb) });
    const lockId = name('cost');
    const grant = await locks.acquire(lockId, { owner: 'a', waitMs: 5_000 });
    await locks.renew(lockId, grant);
    await locks.release(lockId, grant);
    expect(Object.fromEntries(counter.counts)).toEqual({ UpdateItem: 3 });
    ddb.destroy();
  });
});

describe('waiting for a lock: order and handoff', () => {
  it('hands a released lock to the waiter next in line soon after the release', async () => {
    const lockId = name('soon');
    const locks = manager();
    const holder = await locks.acquire(lockId, { owner: 'holder', leaseMs: 60_000 });
    const waiting = locks.acquire(lockId, { owner: 'waiter', waitMs: 30_000 });
    await until(async () => ((await locks.get(lockId)).waiting ?? 0) > 0, 5_000, 'the waiter next');
    const releasedAt = Date.now();
    await locks.release(lockId, holder);
    const grant = await waiting;
    expect(Date.now() - releasedAt).toBeLessThan(BOUND_MS);
    expect(grant.token).toBeGreaterThan(holder.token);
    expect((await locks.get(lockId)).waiting).toBeUndefined();
  });

  it('serves waiters about in turn: a holder that releases and asks again goes behind them', async () => {
    const lockId = name('turns');
    const locks = manager();
    const order: string[] = [];
    let inside = 0;
    let overlaps = 0;
    const worker = async (w: number) => {
      for (let i = 0; i < 8; i++) {
        const grant = await locks.acquire(lockId, { owner: `w${w}-${i}`, waitMs: 60_000 });
        if (inside++ > 0) overlaps++;
        order.push(`w${w}`);
        await sleep(20);
        inside--;
        await locks.release(lockId, grant);
      }
    };
    const first = await locks.acquire(lockId, { owner: 'first', leaseMs: 60_000 });
    const workers = [0, 1, 2, 3].map(worker);
    await sleep(500);
    await locks.release(lockId, first);
    await Promise.all(workers);
    expect(overlaps).toBe(0);
    expect(order).toHaveLength(32);
    // Without the order, the releasing worker wins again and again (it asks first).
    const repeats = order.filter((w, i) => i > 0 && order[i - 1] === w).length;
    expect(repeats).toBeLessThanOrEqual(4);
  });
});

describe('waiting for a lock: callers in separate processes', () => {
  it('keeps granting under mixed traffic: try-locks and waits of 1 to 3,000 ms, 12 callers in 6 processes', async () => {
    const lockId = name('mixed');
    const durationMs = 6_000;
    const workers = Array.from({ length: 6 }, (_, p) =>
      startWorker([lockId, 'mixed', `p${p}`, '2', String(durationMs)]),
    );
    await Promise.all(workers.map(({ child }) => exited(child)));
    const events = workers.flatMap(({ lines }) => lines);
    expect(events.filter((e) => e.event === 'error')).toEqual([]);
    expect(workers.every(({ lines }) => lines.some((e) => e.event === 'done'))).toBe(true);
    const grants = events
      .filter((e) => e.event === 'granted')
      .map((e) => ({ at: e.at as number, token: e.token as number }))
      .sort((a, b) => a.at - b.at);
    // Tokens are all distinct: no two grants shared one.
    expect(new Set(grants.map((g) => g.token)).size).toBe(grants.length);
    // The old queue: 0.7 to 1 grant a second, ~70 stale tickets. Liveness, not speed: a free
    // lock that callers keep asking for keeps being granted.
    expect(grants.length).toBeGreaterThanOrEqual(30);
    const gaps = grants.slice(1).map((g, i) => g.at - grants[i]!.at);
    expect(Math.max(...gaps)).toBeLessThan(BOUND_MS + ALLOWANCE_MS);
  });
});

describe('waiting for a lock: a client that polls the service itself', () => {
  it('sleeps between its requests while a waiter is next on a free lock', async () => {
    // A service that takes no waits (MAX_HTTP_WAIT_MS 0): the client polls on its own.
    const service = new LockUseCase(
      readConfig({
        LOCK_TABLE_NAME: tableName,
        DYNAMODB_ENDPOINT: endpoint(),
        MAX_HTTP_WAIT_MS: '0',
      }),
    );
    const lambda = await startLocalLambda({ 'lock-direct': createInvokeHandler(service) });
    const lambdaClient = new LambdaClient({
      endpoint: lambda.url,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const invokes = countRequests(lambdaClient);
    try {
      const lockId = name('client-poll');
      const locks = manager();
      await locks.release(lockId, await locks.acquire(lockId, { owner: 'a' }));
      // A waiter next in line that went silent just now: a free lock held back for up to the bound.
      const now = Date.now();
      await plantSilentWaiter(lockId, 'silent', now);
      const client = new LockClient({
        transport: 'lambda',
        functionName: 'lock-direct',
        client: lambdaClient,
      });
      const grant = await client.acquire(lockId, { owner: 'poller', waitMs: 3_000 });
      expect(grant.owner).toBe('poller');
      expect(Date.now() - now).toBeLessThan(BOUND_MS + ALLOWANCE_MS);
      // Each refusal says how long the waiter has left; the old queue said 0 and the client
      // asked again every millisecond (603 requests in 3 s).
      expect(invokes.total()).toBeLessThan(30);
    } finally {
      await lambda.close();
      service.close();
      lambdaClient.destroy();
    }
  });
});
