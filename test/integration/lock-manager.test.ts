import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  LockHeld,
  LockLost,
  LockManager,
  type Grant,
  type LockEvent,
} from '../../lib/core/index.js';
import { documentClient, freshLockTable } from '../support/dynamodb.js';

let tableName: string;
let doc: DynamoDBDocumentClient;
let lockSeq = 0;
const nextLock = () => `lock-${++lockSeq}-ü/🔒`;

/** A clock the test moves by hand, so expiry needs no sleeping. */
function manualClock(start = Date.now()) {
  let now = start;
  const clock = () => now;
  clock.advance = (ms: number) => (now += ms);
  return clock;
}

const manager = (options: Partial<ConstructorParameters<typeof LockManager>[0]> = {}) =>
  new LockManager({ tableName, client: doc, ...options });

const rawItem = async (lockId: string) =>
  (await doc.send(new GetCommand({ TableName: tableName, Key: { lockId }, ConsistentRead: true })))
    .Item;

beforeAll(async () => {
  tableName = await freshLockTable();
  doc = documentClient();
});
afterAll(() => doc.destroy());

describe('acquire', () => {
  it('grants a free lock with a token, lease and expiry', async () => {
    const clock = manualClock();
    const lockId = nextLock();
    const grant = await manager({ clock }).acquire(lockId, { owner: 'a', leaseMs: 5_000 });
    expect(grant).toEqual({
      lockId,
      owner: 'a',
      token: clock() + 1,
      expiresAt: clock() + 5_000,
      leaseMs: 5_000,
    });
    expect(await manager({ clock }).get(lockId)).toEqual({
      lockId,
      held: true,
      owner: 'a',
      token: grant.token,
      expiresAt: grant.expiresAt,
      leaseMs: 5_000,
      acquiredAt: clock(),
      transitions: 0,
    });
  });

  it('refuses a held lock, naming the holder and the time left', async () => {
    const clock = manualClock();
    const lockId = nextLock();
    const grant = await manager({ clock }).acquire(lockId, { owner: 'a', leaseMs: 10_000 });
    clock.advance(4_000);
    const refusal = manager({ clock }).acquire(lockId, { owner: 'b' });
    await expect(refusal).rejects.toBeInstanceOf(LockHeld);
    await expect(refusal).rejects.toMatchObject({
      name: 'LockHeld',
      owner: 'a',
      expiresAt: grant.expiresAt,
      retryAfterMs: 6_000,
    });
    expect((await rawItem(lockId))?.owner).toBe('a');
  });

  it('lets exactly one of 50 concurrent acquirers win', async () => {
    const lockId = nextLock();
    const locks = manager();
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => locks.acquire(lockId, { owner: `w${i}` })),
    );
    const granted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(granted).toHaveLength(1);
    expect(refused).toHaveLength(49);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(LockHeld);
    const winner = (granted[0] as PromiseFulfilledResult<Grant>).value;
    expect((await rawItem(lockId))?.owner).toBe(winner.owner);
  });

  it('takes over an expired lease at once, with a larger token', async () => {
    const clock = manualClock();
    const lockId = nextLock();
    const first = await manager({ clock }).acquire(lockId, { owner: 'crashed', leaseMs: 1_000 });
    clock.advance(1_000);
    const events: LockEvent[] = [];
    const second = await manager({ clock, onEvent: (e) => events.push(e) }).acquire(lockId, {
      owner: 'b',
    });
    expect(second.token).toBe(first.token + 1);
    expect(events).toEqual([
      { type: 'granted', lockId, owner: 'b', token: second.token, takeover: true },
    ]);
  });

  it('takes over a real expired lease with the real clock, without waiting a second lease', async () => {
    const lockId = nextLock();
    const first = await manager().acquire(lockId, { owner: 'crashed', leaseMs: 1_000 });
    await new Promise((resolve) => setTimeout(resolve, first.expiresAt - Date.now() + 5));
    // One attempt (no waitMs): it succeeds only if the takeover needs no waiting at all.
    const second = await manager().acquire(lockId, { owner: 'b' });
    expect(second.token).toBeGreaterThan(first.token);
  });

  it('returns the same grant to an owner that retries an acquire', async () => {
    const lockId = nextLock();
    const first = await manager().acquire(lockId, { owner: 'exec-1', leaseMs: 20_000 });
    const retried = await manager().acquire(lockId, { owner: 'exec-1', leaseMs: 20_000 });
    expect(retried).toEqual(first);
    await expect(manager().acquire(lockId, { owner: 'exec-2' })).rejects.toBeInstanceOf(LockHeld);
  });

  it('waits for a held lock up to waitMs and then takes it', async () => {
    const lockId = nextLock();
    const first = await manager().acquire(lockId, { owner: 'a', leaseMs: 1_000 });
    const second = await manager().acquire(lockId, { owner: 'b', waitMs: 5_000 });
    expect(second.token).toBeGreaterThan(first.token);
    expect(Date.now()).toBeGreaterThanOrEqual(first.expiresAt);
  });

  it('gives up after waitMs with LockHeld', async () => {
    const lockId = nextLock();
    await manager().acquire(lockId, { owner: 'a', leaseMs: 20_000 });
    const started = Date.now();
    await expect(manager().acquire(lockId, { owner: 'b', waitMs: 300 })).rejects.toBeInstanceOf(
      LockHeld,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('keeps data with the grant and drops it on release', async () => {
    const lockId = nextLock();
    const grant = await manager().acquire(lockId, { owner: 'a', data: { job: 'nightly', n: 3 } });
    expect((await manager().get(lockId)).data).toEqual({ job: 'nightly', n: 3 });
    await manager().release(lockId, grant);
    const state = await manager().get(lockId);
    expect(state).toEqual({ lockId, held: false, token: grant.token, transitions: 0 });
    expect((await rawItem(lockId))?.data).toBeUndefined();
  });
});

describe('token monotonicity', () => {
  it('strictly increases across release, expiry takeover, force release and re-acquire', async () => {
    const clock = manualClock();
    const lockId = nextLock();
    const locks = manager({ clock });
    const tokens: number[] = [];

    let grant = await locks.acquire(lockId, { owner: 'a', leaseMs: 1_000 });
    tokens.push(grant.token);
    await locks.release(lockId, grant);
    grant = await locks.acquire(lockId, { owner: 'b', leaseMs: 1_000 });
    tokens.push(grant.token);
    clock.advance(1_001);
    grant = await locks.acquire(lockId, { owner: 'c', leaseMs: 1_000 });
    tokens.push(grant.token);
    await locks.forceRelease(lockId);
    grant = await locks.acquire(lockId, { owner: 'c', leaseMs: 1_000 });
    tokens.push(grant.token);

    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
  });
});

describe('renew', () => {
  it('extends the current grant, keeping its token and lease', async () => {
    const clock = manualClock();
    const lockId = nextLock();
    const grant = await manager({ clock }).acquire(lockId, { owner: 'a', leaseMs: 8_000 });
    clock.advance(5_000);
    const renewed = await manager({ clock }).renew(lockId, grant);
    expect(renewed).toEqual({ ...grant, expiresAt: clock() + 8_000 });
    clock.advance(5_000);
    await expect(manager({ clock }).acquire(lockId, { owner: 'b' })).rejects.toBeInstanceOf(
      LockHeld,
    );
  });

  it('can change the lease', async () => {
    const clock = manualClock();
    const lockId = nextLock();
    const grant = await manager({ clock }).acquire(lockId, { owner: 'a', leaseMs: 8_000 });
    const renewed = await manager({ clock }).renew(lockId, { ...grant, leaseMs: 60_000 });
    expect(renewed.leaseMs).toBe(60_000);
    expect(renewed.expiresAt).toBe(clock() + 60_000);
    expect((await rawItem(lockId))?.expiresAt).toBe(clock() + 60_000);
  });

  it('refuses a stale token or a foreign owner and changes nothing', async () => {
    const clock = manualClock();
    const lockId = nextLock();
    const old = await manager({ clock }).acquire(lockId, { owner: 'a', leaseMs: 1_000 });
    clock.advance(2_000);
    const current = await manager({ clock }).acquire(lockId, { owner: 'b', leaseMs: 5_000 });
    const before = await rawItem(lockId);

    clock.advance(100);
    await expect(manager({ clock }).renew(lockId, old)).rejects.toBeInstanceOf(LockLost);
    await expect(
      manager({ clock }).renew(lockId, { owner: 'a', token: current.token }),
    ).rejects.toMatchObject({ name: 'LockLost' });
    await expect(
      manager({ clock }).renew(lockId, { owner: 'b', token: old.token }),
    ).rejects.toBeInstanceOf(LockLost);
    expect(await rawItem(lockId)).toEqual(before);
  });

  it('refuses to renew a released grant, so a renew cannot resurrect it', async () => {
    const lockId = nextLock();
    const grant = await manager().acquire(lockId, { owner: 'a' });
    await manager().release(lockId, grant);
    await expect(manager().renew(lockId, grant)).rejects.toBeInstanceOf(LockLost);
    expect((await manager().get(lockId)).held).toBe(false);
  });

  it('refuses a renew of a lock that never existed without creating it', async () => {
    const lockId = nextLock();
    await expect(manager().renew(lockId, { owner: 'a', token: 5 })).rejects.toBeInstanceOf(
      LockLost,
    );
    expect(await rawItem(lockId)).toBeUndefined();
  });
});

describe('release', () => {
  it('releases the current grant and keeps the counter', async () => {
    const lockId = nextLock();
    const grant = await manager().acquire(lockId, { owner: 'a' });
    expect(await manager().release(lockId, grant)).toEqual({ released: true });
    const item = await rawItem(lockId);
    expect(item?.owner).toBeUndefined();
    expect(item?.token).toBe(grant.token);
    const next = await manager().acquire(lockId, { owner: 'b' });
    expect(next.token).toBe(grant.token + 1);
  });

  it('is harmless when retried after it succeeded', async () => {
    const lockId = nextLock();
    const grant = await manager().acquire(lockId, { owner: 'a' });
    await manager().release(lockId, grant);
    const next = await manager().acquire(lockId, { owner: 'b' });
    expect(await manager().release(lockId, grant)).toEqual({ released: false });
    expect(await manager().get(lockId)).toMatchObject({
      held: true,
      owner: 'b',
      token: next.token,
    });
  });

  it("never removes someone else's grant", async () => {
    const clock = manualClock();
    const lockId = nextLock();
    const old = await manager({ clock }).acquire(lockId, { owner: 'a', leaseMs: 1_000 });
    clock.advance(1_500);
    const current = await manager({ clock }).acquire(lockId, { owner: 'b' });
    const before = await rawItem(lockId);
    expect(await manager({ clock }).release(lockId, old)).toEqual({ released: false });
    expect(await manager({ clock }).release(lockId, { owner: 'a', token: current.token })).toEqual({
      released: false,
    });
    expect(await rawItem(lockId)).toEqual(before);
  });
});

describe('forceRelease', () => {
  it('frees a held lock and makes the evicted token stale', async () => {
    const lockId = nextLock();
    const grant = await manager().acquire(lockId, { owner: 'a', leaseMs: 60_000 });
    expect(await manager().forceRelease(lockId)).toEqual({ released: true });
    await expect(manager().renew(lockId, grant)).rejects.toBeInstanceOf(LockLost);
    expect(await manager().release(lockId, grant)).toEqual({ released: false });
    const next = await manager().acquire(lockId, { owner: 'b' });
    expect(next.token).toBe(grant.token + 2);
  });

  it('reports false for a free lock and creates nothing', async () => {
    const lockId = nextLock();
    expect(await manager().forceRelease(lockId)).toEqual({ released: false });
    expect(await rawItem(lockId)).toBeUndefined();
  });
});

describe('get', () => {
  it('reports an unknown lock as free', async () => {
    const lockId = nextLock();
    expect(await manager().get(lockId)).toEqual({ lockId, held: false });
  });

  it('reports an expired lease as free, with the last token', async () => {
    const clock = manualClock();
    const lockId = nextLock();
    const grant = await manager({ clock }).acquire(lockId, { owner: 'a', leaseMs: 1_000 });
    clock.advance(1_000);
    expect(await manager({ clock }).get(lockId)).toEqual({
      lockId,
      held: false,
      token: grant.token,
      transitions: 0,
    });
  });
});
