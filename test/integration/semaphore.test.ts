import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  createDocumentClient,
  type Grant,
  LIMITS,
  LockHeld,
  LockLost,
  LockManager,
  ValidationError,
} from '../../lib/core/index.js';
import { countRequests, dynamoClient, freshLockTable } from '../support/dynamodb.js';
import { itemBytes } from '../support/item-size.js';

let tableName: string;
let doc: DynamoDBDocumentClient;
let seq = 0;
const name = (label: string) => `sem-${label}-${++seq}`;

beforeAll(async () => {
  tableName = await freshLockTable('semaphores');
  doc = createDocumentClient(dynamoClient());
});
afterAll(() => doc.destroy());

const manager = (clock?: () => number) => new LockManager({ tableName, client: doc, clock });

const rawItem = async (lockId: string) =>
  (await doc.send(new GetCommand({ TableName: tableName, Key: { lockId }, ConsistentRead: true })))
    .Item;

describe('semaphores', () => {
  it('gives exactly 5 of 50 concurrent acquirers a permit, each with its own token', async () => {
    const id = name('race');
    const locks = manager();
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => locks.acquire(id, { owner: `w${i}`, permits: 5 })),
    );
    const grants = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refusals = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(grants).toHaveLength(5);
    expect(refusals).toHaveLength(45);
    for (const refusal of refusals) expect(refusal).toBeInstanceOf(LockHeld);
    expect(new Set(grants.map((g) => g.token)).size).toBe(5);
    expect(new Set(grants.map((g) => g.owner)).size).toBe(5);
    const state = await locks.get(id);
    expect(state).toMatchObject({ held: true, permits: 5, available: 0 });
    expect(state.holders?.map((h) => h.owner).sort()).toEqual(grants.map((g) => g.owner).sort());
  });

  it('answers a full semaphore with the permit that ends first', async () => {
    const id = name('full');
    const locks = manager();
    const first = await locks.acquire(id, { owner: 'a', permits: 2, leaseMs: 5_000 });
    await locks.acquire(id, { owner: 'b', permits: 2, leaseMs: 20_000 });
    const refusal = await locks.acquire(id, { owner: 'c', permits: 2 }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(LockHeld);
    expect(refusal).toMatchObject({ owner: 'a', expiresAt: first.expiresAt });
    expect((refusal as LockHeld).retryAfterMs).toBeLessThanOrEqual(5_000);
  });

  it('frees a permit when its lease ends, with no cleanup, and tokens keep rising', async () => {
    const id = name('expiry');
    let now = Date.now();
    const locks = manager(() => now);
    const a = await locks.acquire(id, { owner: 'a', permits: 2, leaseMs: 1_000 });
    const b = await locks.acquire(id, { owner: 'b', permits: 2, leaseMs: 60_000 });
    await expect(locks.acquire(id, { owner: 'c', permits: 2 })).rejects.toBeInstanceOf(LockHeld);
    now += 1_000;
    const c = await locks.acquire(id, { owner: 'c', permits: 2 });
    expect(c.token).toBeGreaterThan(b.token);
    expect((await locks.get(id)).holders?.map((h) => h.owner).sort()).toEqual(['b', 'c']);
    // The replaced holder's permit is gone: its renew and release change nothing.
    await expect(locks.renew(id, a)).rejects.toBeInstanceOf(LockLost);
    expect(await locks.release(id, a)).toEqual({ released: false });
  });

  it('gives a retrying owner its own permit back, never a second one', async () => {
    const id = name('retry');
    const locks = manager();
    const first = await locks.acquire(id, { owner: 'exec-1', permits: 3 });
    const again = await locks.acquire(id, { owner: 'exec-1', permits: 3 });
    expect(again).toEqual(first);
    const state = await locks.get(id);
    expect(state.holders).toHaveLength(1);
    expect(state.available).toBe(2);
  });

  it('renews and releases each permit on its own, by owner and token', async () => {
    const id = name('own');
    const locks = manager();
    const a = await locks.acquire(id, { owner: 'a', permits: 2, leaseMs: 2_000 });
    const b = await locks.acquire(id, { owner: 'b', permits: 2, leaseMs: 2_000 });
    const renewed = await locks.renew(id, { ...a, leaseMs: 30_000 });
    expect(renewed).toMatchObject({ owner: 'a', token: a.token, leaseMs: 30_000, permits: 2 });
    await expect(locks.renew(id, { ...b, token: a.token })).rejects.toBeInstanceOf(LockLost);
    expect(await locks.release(id, { ...b, token: b.token + 1 })).toEqual({ released: false });
    expect(await locks.release(id, b)).toEqual({ released: true });
    const state = await locks.get(id);
    expect(state.holders?.map((h) => [h.owner, h.token])).toEqual([['a', a.token]]);
  });

  it('refuses a different number of permits while the semaphore is in use, and a plain acquire', async () => {
    const id = name('mismatch');
    const locks = manager();
    await locks.acquire(id, { owner: 'a', permits: 3 });
    const wrong = await locks.acquire(id, { owner: 'b', permits: 4 }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ValidationError);
    expect(wrong).toMatchObject({ field: 'permits' });
    const plain = await locks.acquire(id, { owner: 'b' }).catch((e: unknown) => e);
    expect(plain).toMatchObject({ name: 'ValidationError', field: 'permits' });
    expect((await locks.get(id)).holders).toHaveLength(1);
  });

  it('turns a released lock into a semaphore without going back on tokens', async () => {
    const id = name('convert');
    const locks = manager();
    const lock = await locks.acquire(id, { owner: 'a' });
    await expect(locks.acquire(id, { owner: 'b', permits: 2 })).rejects.toMatchObject({
      name: 'LockHeld',
      owner: 'a',
    });
    await locks.release(id, lock);
    const permit = await locks.acquire(id, { owner: 'b', permits: 2 });
    expect(permit.token).toBeGreaterThan(lock.token);
  });

  it('force release frees every permit and makes their tokens stale', async () => {
    const id = name('force');
    const locks = manager();
    const a = await locks.acquire(id, { owner: 'a', permits: 2 });
    await locks.acquire(id, { owner: 'b', permits: 2 });
    expect(await locks.forceRelease(id)).toEqual({ released: true });
    expect(await locks.forceRelease(id)).toEqual({ released: false });
    expect(await locks.get(id)).toMatchObject({ held: false, available: 2 });
    await expect(locks.renew(id, a)).rejects.toBeInstanceOf(LockLost);
    const next = await locks.acquire(id, { owner: 'c', permits: 2 });
    expect(next.token).toBeGreaterThan(a.token + 1);
  });

  it("counts an expired permit as free in get's available, as an acquire finds it", async () => {
    const id = name('available');
    let now = Date.now();
    const locks = manager(() => now);
    await locks.acquire(id, { owner: 'a', permits: 2, leaseMs: 1_000 });
    const b = await locks.acquire(id, { owner: 'b', permits: 2, leaseMs: 60_000 });
    expect(await locks.get(id)).toMatchObject({ available: 0 });
    now += 1_000;
    const state = await locks.get(id);
    expect(state).toMatchObject({ held: true, available: 1 });
    expect(state.holders?.map((h) => [h.owner, h.token])).toEqual([['b', b.token]]);
    // What get promised: one acquire succeeds, the next is refused.
    await locks.acquire(id, { owner: 'c', permits: 2 });
    await expect(locks.acquire(id, { owner: 'd', permits: 2 })).rejects.toBeInstanceOf(LockHeld);
  });

  it('does not replace an expired permit that its holder renewed after the replacer looked', async () => {
    const id = name('renewed-victim');
    let now = Date.now();
    const locks = manager(() => now);
    const victim = await locks.acquire(id, { owner: 'victim', permits: 2, leaseMs: 1_000 });
    const other = await locks.acquire(id, { owner: 'other', permits: 2, leaseMs: 60_000 });
    now += 1_000; // the victim's permit has expired, but is still in the item
    // Holds the replacing write (the acquire's second) back until the victim has renewed.
    const ddb = dynamoClient();
    let renewed!: () => void;
    const victimRenewed = new Promise<void>((resolve) => (renewed = resolve));
    let replaceSeen!: () => void;
    const replaceHeld = new Promise<void>((resolve) => (replaceSeen = resolve));
    let writes = 0;
    ddb.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Key?: { lockId?: { S?: string } } };
        if (input.Key?.lockId?.S === id && ++writes === 2) {
          replaceSeen();
          await victimRenewed;
        }
        return next(args);
      },
      { step: 'build', name: 'holdTheReplace' },
    );
    const slow = new LockManager({
      tableName,
      client: createDocumentClient(ddb),
      clock: () => now,
    });
    const late = slow.acquire(id, { owner: 'thief', permits: 2 }).catch((e: unknown) => e);
    await replaceHeld;
    // Renewing a just-expired permit that nobody replaced yet keeps it (same token).
    const kept = await locks.renew(id, { ...victim, leaseMs: 60_000 });
    renewed();
    expect(await late).toBeInstanceOf(LockHeld);
    const state = await locks.get(id);
    expect(state.holders?.map((h) => [h.owner, h.token]).sort()).toEqual(
      [
        ['other', other.token],
        ['victim', victim.token],
      ].sort(),
    );
    expect(await locks.renew(id, kept)).toMatchObject({ token: victim.token });
    ddb.destroy();
  });

  it('keeps data with each permit', async () => {
    const id = name('data');
    const locks = manager();
    await locks.acquire(id, { owner: 'a', permits: 2, data: { job: 7 } });
    expect((await locks.get(id)).holders?.[0]).toMatchObject({ owner: 'a', data: { job: 7 } });
  });
});

describe('request counts', () => {
  it('costs 2 requests for the first permit, then 1 per acquire, renew and release', async () => {
    const ddb = dynamoClient();
    const counter = countRequests(ddb);
    let now = Date.now();
    const locks = new LockManager({
      tableName,
      client: createDocumentClient(ddb),
      clock: () => now,
    });
    const id = name('count');
    const measure = async <T>(op: () => Promise<T>) => {
      counter.reset();
      const result = await op();
      return { result, counts: Object.fromEntries(counter.counts) };
    };
    expect((await measure(() => locks.acquire(id, { owner: 'a', permits: 2 }))).counts).toEqual({
      UpdateItem: 2,
    });
    const { result: b, counts } = await measure(() =>
      locks.acquire(id, { owner: 'b', permits: 2, leaseMs: 1_000 }),
    );
    expect(counts).toEqual({ UpdateItem: 1 });
    expect((await measure(() => locks.renew(id, b))).counts).toEqual({ UpdateItem: 1 });
    expect((await measure(() => locks.acquire(id, { owner: 'b', permits: 2 }))).counts).toEqual({
      UpdateItem: 1,
    });
    expect((await measure(() => locks.release(id, b))).counts).toEqual({ UpdateItem: 1 });
    // Full, then one permit expires: the replacement takes the refused write plus one.
    const c = await locks.acquire(id, { owner: 'c', permits: 2, leaseMs: 1_000 });
    now += 1_000;
    expect((await measure(() => locks.acquire(id, { owner: 'd', permits: 2 }))).counts).toEqual({
      UpdateItem: 2,
    });
    // Renew and release without the grant's `permits` find the semaphore on a second request.
    const d = (await locks.get(id)).holders?.find((h) => h.owner === 'd');
    expect(
      (await measure(() => locks.renew(id, { owner: 'd', token: d?.token ?? 0 }))).counts,
    ).toEqual({ UpdateItem: 2 });
    expect(await locks.release(id, { owner: 'c', token: c.token })).toEqual({ released: false });
    ddb.destroy();
  });

  it('leaves plain locks at one request per operation', async () => {
    const ddb = dynamoClient();
    const counter = countRequests(ddb);
    const locks = new LockManager({ tableName, client: createDocumentClient(ddb) });
    const id = name('plain');
    const grant = await locks.acquire(id, { owner: 'a' });
    await locks.renew(id, grant);
    await locks.release(id, grant);
    expect(Object.fromEntries(counter.counts)).toEqual({ UpdateItem: 3 });
    ddb.destroy();
  });
});

describe('releaseAllHeldBy', () => {
  it('releases every lock and permit an owner acquired with trackOwner, and ends the owner', async () => {
    const locks = manager();
    const [lockId, semId, untracked] = [name('tracked'), name('tracked-sem'), name('untracked')];
    const owner = `arn:aws:states:eu-west-1:123456789012:execution:M:${seq}`;
    await locks.acquire(lockId, { owner, trackOwner: true, leaseMs: 600_000 });
    await locks.acquire(semId, { owner, trackOwner: true, permits: 3, leaseMs: 600_000 });
    await locks.acquire(untracked, { owner, leaseMs: 600_000 });
    expect((await locks.releaseAllHeldBy(owner)).released.sort()).toEqual([lockId, semId].sort());
    expect((await locks.get(lockId)).held).toBe(false);
    expect((await locks.get(semId)).held).toBe(false);
    // Only tracked grants are found: an untracked one stays until released or expired.
    expect((await locks.get(untracked)).held).toBe(true);
    // An ended owner can take nothing more through tracking, and a second cleanup is harmless.
    await expect(locks.acquire(name('late'), { owner, trackOwner: true })).rejects.toBeInstanceOf(
      LockLost,
    );
    expect(await locks.releaseAllHeldBy(owner)).toEqual({ released: [] });
  });

  it('releases every one of two locks and two semaphores an owner holds', async () => {
    const locks = manager();
    const owner = `arn:aws:states:eu-west-1:123456789012:execution:M:four-${seq}`;
    const ids = [name('lock-1'), name('lock-2'), name('sem-1'), name('sem-2')];
    await locks.acquire(ids[0], { owner, trackOwner: true, leaseMs: 600_000 });
    await locks.acquire(ids[1], { owner, trackOwner: true, leaseMs: 600_000 });
    await locks.acquire(ids[2], { owner, trackOwner: true, permits: 2, leaseMs: 600_000 });
    await locks.acquire(ids[3], { owner, trackOwner: true, permits: 3, leaseMs: 600_000 });
    expect((await locks.releaseAllHeldBy(owner)).released.sort()).toEqual([...ids].sort());
    for (const lockId of ids) expect((await locks.get(lockId)).held).toBe(false);
  });

  it('bounds what others can register under an owner, and still frees all it holds at the bound', async () => {
    const locks = manager();
    const victim = `arn:aws:states:eu-west-1:123456789012:execution:M:victim-${seq}`;
    const real = name('victim-real');
    await locks.acquire(real, { owner: victim, trackOwner: true, leaseMs: 600_000 });
    // Anyone who can acquire may name the victim as owner: with 1 KB lock ids, 400 of them
    // used to push its registry past DynamoDB's item limit.
    const long = (i: number) => `${name('flood')}-${i}-${'x'.repeat(1_000)}`;
    const outcomes = await Promise.all(
      Array.from({ length: LIMITS.trackedLockIdsMax + 20 }, (_, i) =>
        locks
          .acquire(long(i), { owner: victim, trackOwner: true, leaseMs: 600_000 })
          .then(() => 'granted')
          .catch((e: unknown) => e),
      ),
    );
    const refusals = outcomes.filter((o) => o !== 'granted');
    expect(outcomes.length - refusals.length).toBe(LIMITS.trackedLockIdsMax - 1);
    for (const refusal of refusals) {
      expect(refusal).toBeInstanceOf(ValidationError);
      expect(refusal).toMatchObject({ field: 'trackOwner' });
    }
    // The same lock id registers again (a waiting acquire's retry), and semaphores have their own bound.
    await locks.acquire(real, { owner: victim, trackOwner: true, leaseMs: 600_000 });
    const semaphores = Array.from({ length: LIMITS.trackedLockIdsMax }, (_, i) => `${long(i)}-s`);
    for (const lockId of semaphores) {
      await locks.acquire(lockId, {
        owner: victim,
        trackOwner: true,
        permits: 2,
        leaseMs: 600_000,
      });
    }
    await expect(
      locks.acquire(name('one-too-many'), { owner: victim, trackOwner: true, permits: 2 }),
    ).rejects.toMatchObject({ name: 'ValidationError', field: 'trackOwner' });
    const registry = await rawItem(`\u0000owner:${victim}`);
    expect(itemBytes(registry ?? {})).toBeLessThan(LIMITS.itemMaxBytes / 2);
    const { released } = await locks.releaseAllHeldBy(victim);
    expect(released).toHaveLength(2 * LIMITS.trackedLockIdsMax);
    expect(released).toContain(real);
    expect((await locks.get(real)).held).toBe(false);
    for (const lockId of semaphores) expect((await locks.get(lockId)).held).toBe(false);
  });

  it('costs untracked acquires nothing extra', async () => {
    const ddb = dynamoClient();
    const counter = countRequests(ddb);
    const locks = new LockManager({ tableName, client: createDocumentClient(ddb) });
    await locks.acquire(name('cost'), { owner: 'x' });
    expect(counter.total()).toBe(1);
    counter.reset();
    await locks.acquire(name('cost'), { owner: 'x', trackOwner: true });
    expect(counter.total()).toBe(2);
    ddb.destroy();
  });

  it('a grant that lands after the cleanup holds only until its lease ends, and does not delay it', async () => {
    const ddb = dynamoClient();
    const owner = `exec-late-${seq}`;
    const lockId = name('late-race');
    // Holds the acquire's write back until the cleanup has finished, as a slow Lambda would.
    let cleanupDone!: () => void;
    const cleaned = new Promise<void>((resolve) => (cleanupDone = resolve));
    let writes = 0;
    ddb.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Key?: { lockId?: { S?: string } } };
        if (input.Key?.lockId?.S === lockId && ++writes === 1) await cleaned;
        return next(args);
      },
      { step: 'build', name: 'holdTheGrant' },
    );
    const slow = new LockManager({ tableName, client: createDocumentClient(ddb) });
    const late = slow.acquire(lockId, { owner, trackOwner: true, leaseMs: 1_500 });
    // The registration has happened (it is not held back); the grant has not landed yet.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const locks = manager();
    const started = performance.now();
    expect(await locks.releaseAllHeldBy(owner)).toEqual({ released: [] });
    expect(performance.now() - started).toBeLessThan(1_500);
    cleanupDone();
    const grant: Grant = await late;
    expect((await locks.get(lockId)).owner).toBe(owner);
    // The lease is the backstop: once it ends, the next owner takes over at once.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, grant.expiresAt - Date.now())));
    const next = await locks.acquire(lockId, { owner: 'next' });
    expect(next.token).toBeGreaterThan(grant.token);
    ddb.destroy();
  });

  it('keeps the registry out of reach of lock ids', async () => {
    const locks = manager();
    await expect(locks.get('\u0000owner:x')).rejects.toMatchObject({ field: 'lockId' });
    expect(await rawItem('\u0000owner:nobody')).toBeUndefined();
  });
});
