import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LockManager } from '../../lib/core/index.js';
import { documentClient, freshLockTable } from '../support/dynamodb.js';

let tableName: string;
let doc: DynamoDBDocumentClient;
let lockSeq = 0;
const nextLock = () => `history-${++lockSeq}-ü/🔒`;

/** A clock the test moves by hand, so expiry needs no sleeping. */
function manualClock(start = Date.now()) {
  let now = start;
  const clock = () => now;
  clock.advance = (ms: number) => (now += ms);
  return clock;
}

const manager = (clock: () => number) => new LockManager({ tableName, client: doc, clock });

beforeAll(async () => {
  tableName = await freshLockTable();
  doc = documentClient();
});
afterAll(() => doc.destroy());

describe('a lock records its history in the grant write', () => {
  it('a first grant: acquiredAt now, 0 transitions, with holder, lease and data', async () => {
    const clock = manualClock();
    const locks = manager(clock);
    const lockId = nextLock();
    const grant = await locks.acquire(lockId, { owner: 'a', leaseMs: 5_000, data: { job: 1 } });
    expect(await locks.get(lockId)).toEqual({
      lockId,
      held: true,
      owner: 'a',
      token: grant.token,
      expiresAt: clock() + 5_000,
      leaseMs: 5_000,
      acquiredAt: clock(),
      transitions: 0,
      data: { job: 1 },
    });
  });

  it('a re-grant (a retry, or the same owner again after a release or expiry) does not count', async () => {
    const clock = manualClock();
    const locks = manager(clock);
    const lockId = nextLock();
    const first = await locks.acquire(lockId, { owner: 'a', leaseMs: 5_000 });
    const started = clock();
    clock.advance(1_000);
    await locks.acquire(lockId, { owner: 'a', leaseMs: 5_000 }); // its grant back, unchanged
    expect(await locks.get(lockId)).toMatchObject({ acquiredAt: started, transitions: 0 });
    await locks.release(lockId, first);
    clock.advance(1_000);
    await locks.acquire(lockId, { owner: 'a', leaseMs: 5_000 });
    expect(await locks.get(lockId)).toMatchObject({ acquiredAt: clock(), transitions: 0 });
    clock.advance(6_000); // expired: a new grant, same owner
    await locks.acquire(lockId, { owner: 'a', leaseMs: 5_000 });
    expect(await locks.get(lockId)).toMatchObject({ acquiredAt: clock(), transitions: 0 });
  });

  it('a takeover, a handoff and a grant after a force release each count one', async () => {
    const clock = manualClock();
    const locks = manager(clock);
    const lockId = nextLock();
    await locks.acquire(lockId, { owner: 'a', leaseMs: 1_000 });
    clock.advance(2_000);
    const b = await locks.acquire(lockId, { owner: 'b', leaseMs: 5_000 }); // takeover
    expect(await locks.get(lockId)).toMatchObject({
      owner: 'b',
      acquiredAt: clock(),
      transitions: 1,
    });
    await locks.release(lockId, b);
    expect(await locks.get(lockId)).toEqual({
      lockId,
      held: false,
      token: b.token,
      transitions: 1,
    });
    clock.advance(10);
    await locks.acquire(lockId, { owner: 'c', leaseMs: 5_000 }); // handoff
    expect(await locks.get(lockId)).toMatchObject({ owner: 'c', transitions: 2 });
    await locks.forceRelease(lockId);
    await locks.acquire(lockId, { owner: 'c', leaseMs: 5_000 }); // same owner: no change of hands
    expect(await locks.get(lockId)).toMatchObject({ owner: 'c', transitions: 2 });
    await locks.forceRelease(lockId);
    clock.advance(10);
    await locks.acquire(lockId, { owner: 'a', leaseMs: 5_000 });
    expect(await locks.get(lockId)).toMatchObject({
      owner: 'a',
      acquiredAt: clock(),
      transitions: 3,
    });
  });

  it('owners that look alike as strings or object keys stay apart', async () => {
    const clock = manualClock();
    const locks = manager(clock);
    const lockId = nextLock();
    for (const owner of ['__proto__', 'constructor', '__proto__ ', 'toString', '__proto__']) {
      const grant = await locks.acquire(lockId, { owner, leaseMs: 5_000 });
      await locks.release(lockId, grant);
    }
    expect(await locks.get(lockId)).toMatchObject({ transitions: 4 });
  });

  it('a semaphore: each permit its acquiredAt; transitions counts permits granted to new holders', async () => {
    const clock = manualClock();
    const locks = manager(clock);
    const lockId = nextLock();
    const a = await locks.acquire(lockId, { owner: 'a', leaseMs: 1_000, permits: 2 });
    const startedA = clock();
    clock.advance(100);
    await locks.acquire(lockId, { owner: 'b', leaseMs: 5_000, permits: 2 });
    const startedB = clock();
    await locks.acquire(lockId, { owner: 'b', leaseMs: 5_000, permits: 2 }); // its own back
    expect(await locks.get(lockId)).toMatchObject({
      transitions: 1,
      holders: [
        { owner: 'a', token: a.token, acquiredAt: startedA, leaseMs: 1_000 },
        { owner: 'b', acquiredAt: startedB, leaseMs: 5_000 },
      ],
    });
    clock.advance(1_000); // a's permit expired: c replaces it
    await locks.acquire(lockId, { owner: 'c', leaseMs: 5_000, permits: 2 });
    const state = await locks.get(lockId);
    expect(state.transitions).toBe(2);
    expect(state.holders?.map((h) => [h.owner, h.acquiredAt])).toEqual([
      ['b', startedB],
      ['c', clock()],
    ]);
    await locks.forceRelease(lockId);
    await locks.acquire(lockId, { owner: 'd', leaseMs: 5_000, permits: 2 });
    expect(await locks.get(lockId)).toMatchObject({ transitions: 3, available: 1 });
  });
});
