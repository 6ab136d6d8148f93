import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, LockHeld, LockManager } from '../../lib/core/index.js';
import {
  countRequests,
  documentClient,
  dynamoClient,
  freshLockTable,
} from '../support/dynamodb.js';

let tableName: string;
const doc = documentClient();
let seq = 0;
const name = (label: string) => `fair-${label}-${++seq}`;

beforeAll(async () => {
  tableName = await freshLockTable('fair');
});
afterAll(() => doc.destroy());

const manager = () => new LockManager({ tableName, client: doc });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('waiting for a lock', () => {
  it('serves waiters in turn: a holder that releases and asks again goes behind them', async () => {
    const lockId = name('turns');
    // A skip window no stall of this (possibly loaded) machine reaches: strictly first come,
    // first served. The default window is tested with a dead waiter below.
    const locks = new LockManager({ tableName, client: doc, queueSkipMs: 10_000 });
    const order: string[] = [];
    let inside = 0;
    let overlaps = 0;
    const worker = async (w: number) => {
      for (let i = 0; i < 8; i++) {
        const grant = await locks.acquire(lockId, { owner: `w${w}-${i}`, waitMs: 60_000 });
        if (inside++ > 0) overlaps++;
        order.push(`w${w}`);
        await sleep(5);
        inside--;
        await locks.release(lockId, grant);
      }
    };
    // All four queue behind a first holder, so that from the first grant on others wait.
    const first = await locks.acquire(lockId, { owner: 'first', leaseMs: 60_000 });
    const workers = [0, 1, 2, 3].map(worker);
    while ((await locks.get(lockId)).waiting !== 4) await sleep(20);
    await locks.release(lockId, first);
    await Promise.all(workers);
    expect(overlaps).toBe(0);
    expect(order).toHaveLength(32);
    // While others wait, nobody gets the lock twice in a row (it used to win again and again).
    const repeats = order.filter((w, i) => i > 0 && order[i - 1] === w).length;
    expect(repeats).toBe(0);
    expect((await locks.get(lockId)).waiting).toBeUndefined();
  });

  it('hands a released lock to the waiter soon after the release', async () => {
    const lockId = name('soon');
    const locks = manager();
    const holder = await locks.acquire(lockId, { owner: 'holder', leaseMs: 60_000 });
    const waiting = locks.acquire(lockId, { owner: 'waiter', waitMs: 30_000 });
    await sleep(300);
    expect((await locks.get(lockId)).waiting).toBe(1);
    const releasedAt = Date.now();
    await locks.release(lockId, holder);
    const grant = await waiting;
    // Learned of by the waiter's own reads (next in line: every 5 ms, growing to 100 ms).
    expect(Date.now() - releasedAt).toBeLessThan(2_000);
    expect(grant.token).toBeGreaterThan(holder.token);
  });

  it('passes over a waiter that died, after the skip window', async () => {
    const lockId = name('dead');
    const locks = manager();
    const first = await locks.acquire(lockId, { owner: 'a' });
    await locks.release(lockId, first);
    // A ticket taken by a waiter that then died, as the waiter's own write leaves it.
    await doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { lockId },
        UpdateExpression: 'ADD #issued :one SET #served = if_not_exists(#served, :zero)',
        ExpressionAttributeNames: { '#issued': 'issued', '#served': 'served' },
        ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
      }),
    );
    // A caller that does not wait is refused: someone is queued first.
    const refusal = await locks.acquire(lockId, { owner: 'b' }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(LockHeld);
    expect(refusal).toMatchObject({ owner: '', waiting: 1 });
    // One that waits gets it once the dead ticket's window has passed.
    const started = Date.now();
    const grant = await locks.acquire(lockId, { owner: 'b', waitMs: 10_000 });
    expect(grant.owner).toBe('b');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await locks.get(lockId)).waiting).toBeUndefined();
  });

  it('gives the turn on when a waiter next in line gives up', async () => {
    const lockId = name('give-up');
    const locks = manager();
    const holder = await locks.acquire(lockId, { owner: 'holder', leaseMs: 60_000 });
    const quitter = locks.acquire(lockId, { owner: 'quitter', waitMs: 400 });
    await sleep(100);
    const patient = locks.acquire(lockId, { owner: 'patient', waitMs: 30_000 });
    await expect(quitter).rejects.toBeInstanceOf(LockHeld);
    await sleep(100);
    await locks.release(lockId, holder);
    const released = Date.now();
    expect((await patient).owner).toBe('patient');
    // No skip window to wait out: the quitter handed its turn on as it left.
    expect(Date.now() - released).toBeLessThan(250);
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
