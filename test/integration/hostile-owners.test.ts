// Issue 20's findings 1 to 4, over every way a caller reaches the service: owners named like
// Object.prototype's members, a semaphore at its documented limits, and `permits` on the renew
// or release of a lock. Each request either works exactly as it would for owner "w1" or is
// refused with a ValidationError naming the field, before any write.
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { API_KINDS } from '../../lib/contract/http.js';
import {
  type Grant,
  LIMITS,
  LockClient,
  LockHeld,
  LockManager,
  LockServiceUnavailable,
  ValidationError,
} from '../../lib/index.js';
import { type LocalServer, startLocalServer } from '../../local/server.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';
import { itemBytes } from '../support/item-size.js';
import { startTransports, TRANSPORT_NAMES, type Transports } from '../support/transports.js';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

/** Every name an object has before anyone sets one: `__proto__`, `constructor`, `toString`... */
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);

let tableName: string;
let transports: Transports;
const servers: Partial<Record<(typeof API_KINDS)[number], LocalServer>> = {};
const doc = documentClient();

beforeAll(async () => {
  tableName = await freshLockTable('hostile-owners');
  transports = await startTransports(tableName);
  for (const api of API_KINDS) {
    servers[api] = await startLocalServer({
      tableName,
      dynamodbEndpoint: endpoint(),
      port: 0,
      api,
    });
  }
});
afterAll(async () => {
  await transports.close();
  for (const server of Object.values(servers)) await server?.close();
  doc.destroy();
});

const rawItem = async (lockId: string) =>
  (await doc.send(new GetCommand({ TableName: tableName, Key: { lockId }, ConsistentRead: true })))
    .Item;

/** The library, the REST and HTTP API v2 edges, and the direct function through Lambda's Invoke. */
const SURFACES = [...TRANSPORT_NAMES, 'http-v2'] as const;
const clientOf = (surface: (typeof SURFACES)[number]): LockClient =>
  surface === 'http-v2'
    ? new LockClient({ transport: 'http', endpoint: servers.http?.url ?? '' })
    : transports.client(surface);

const failure = (promise: Promise<unknown>) =>
  promise.then(() => undefined).catch((e: unknown) => e);

describe.each(SURFACES)('over %s', (surface) => {
  const id = (label: string) => `${surface}-hostile-${label}`;

  it('lets an owner named __proto__ take, renew and release a permit; the semaphore keeps working for everyone', async () => {
    const client = clientOf(surface);
    const lockId = id('proto');
    const first = await client.acquire(lockId, { owner: 'w1', permits: 2, leaseMs: 60_000 });
    const proto = await client.acquire(lockId, {
      owner: '__proto__',
      permits: 2,
      leaseMs: 30_000,
      data: JSON.parse('{"__proto__":"x"}') as Record<string, unknown>,
    });
    expect(proto).toMatchObject({ owner: '__proto__', permits: 2 });
    expect(proto.token).toBeGreaterThan(first.token);
    // A retry gets the same permit back.
    expect(await client.acquire(lockId, { owner: '__proto__', permits: 2 })).toEqual(proto);
    const state = await client.get(lockId);
    expect(state).toMatchObject({ held: true, permits: 2, available: 0 });
    expect(state.holders?.map((h) => [h.owner, h.token])).toEqual([
      ['__proto__', proto.token],
      ['w1', first.token],
    ]);
    expect(await failure(client.acquire(lockId, { owner: 'w2', permits: 2 }))).toBeInstanceOf(
      LockHeld,
    );
    expect(await failure(client.acquire(lockId, { owner: 'w2' }))).toMatchObject({
      name: 'ValidationError',
      field: 'permits',
    });
    const renewed = await client.renew(lockId, { ...proto, leaseMs: 40_000 });
    expect(renewed).toMatchObject({ owner: '__proto__', token: proto.token, leaseMs: 40_000 });
    // Without `permits` too (the lock-shaped write is refused and shows the semaphore).
    await client.renew(lockId, { owner: '__proto__', token: proto.token });
    expect(await client.release(lockId, proto)).toEqual({ released: true });
    expect((await client.get(lockId)).available).toBe(1);
    await client.acquire(lockId, { owner: 'constructor', permits: 2 });
    expect(await client.forceRelease(lockId)).toEqual({ released: true });
    expect(await client.get(lockId)).toMatchObject({ held: false, available: 2 });
    const next = await client.acquire(lockId, { owner: 'w2', permits: 2 });
    expect(next.token).toBeGreaterThan(proto.token);
  });

  it("refuses each of Object.prototype's names LockHeld on a full semaphore, and gives each a permit of a free one", async () => {
    const client = clientOf(surface);
    const full = id('full');
    const holder = await client.acquire(full, { owner: 'w1', permits: 1, leaseMs: 60_000 });
    for (const owner of PROTOTYPE_NAMES) {
      const refusal = await failure(client.acquire(full, { owner, permits: 1 }));
      expect({ owner, refusal }).toMatchObject({
        owner,
        refusal: { name: 'LockHeld', owner: 'w1', expiresAt: holder.expiresAt },
      });
    }
    const pool = id('pool');
    const permits = PROTOTYPE_NAMES.length;
    const grants: Grant[] = [];
    for (const owner of PROTOTYPE_NAMES) {
      grants.push(await client.acquire(pool, { owner, permits, leaseMs: 60_000 }));
    }
    expect(new Set(grants.map((g) => g.token)).size).toBe(permits);
    const state = await client.get(pool);
    expect(state).toMatchObject({ available: 0 });
    expect(state.holders?.map((h) => h.owner).sort()).toEqual([...PROTOTYPE_NAMES].sort());
    for (const grant of grants) {
      await client.renew(pool, grant);
      expect(await client.release(pool, grant)).toEqual({ released: true });
    }
    expect(await client.get(pool)).toMatchObject({ held: false, available: permits });
  });

  it('refuses a permit that could not fit a full semaphore, naming data, before any write', async () => {
    const client = clientOf(surface);
    const lockId = id('too-big');
    // The probe: within each field's own limit, but 1,000 such permits exceed 400 KB.
    const refusal = await failure(
      client.acquire(lockId, {
        owner: 'o'.repeat(246),
        permits: 1_000,
        data: { blob: 'd'.repeat(4_000) },
        trackOwner: true,
      }),
    );
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal).toMatchObject({ field: 'data' });
    expect(await rawItem(lockId)).toBeUndefined();
    // Nothing registered either: the owner's registry item was not written.
    expect(await rawItem(`\u0000owner:${'o'.repeat(246)}`)).toBeUndefined();
    // The same permit fits a semaphore of 80.
    await client.acquire(lockId, {
      owner: 'o'.repeat(246),
      permits: 80,
      data: { blob: 'd'.repeat(4_000) },
    });
  });

  it("answers permits on a lock's renew or release, or the wrong permits on a semaphore's, with ValidationError('permits'), changing nothing", async () => {
    const client = clientOf(surface);
    const lockId = id('plain');
    const grant = await client.acquire(lockId, { owner: 'w1', leaseMs: 60_000 });
    const before = await rawItem(lockId);
    for (const attempt of [
      client.renew(lockId, { ...grant, permits: 1 }),
      client.release(lockId, { ...grant, permits: 1 }),
    ]) {
      const refusal = await failure(attempt);
      expect(refusal).toBeInstanceOf(ValidationError);
      expect(refusal).toMatchObject({ field: 'permits' });
    }
    expect(await rawItem(lockId)).toEqual(before);
    expect(await client.renew(lockId, grant)).toMatchObject({ token: grant.token });
    expect(await client.release(lockId, grant)).toEqual({ released: true });

    const semId = id('sem-permits');
    const permit = await client.acquire(semId, { owner: 'w1', permits: 2 });
    const held = await rawItem(semId);
    for (const attempt of [
      client.renew(semId, { ...permit, permits: 3 }),
      client.release(semId, { ...permit, permits: 3 }),
    ]) {
      expect(await failure(attempt)).toMatchObject({ name: 'ValidationError', field: 'permits' });
    }
    expect(await rawItem(semId)).toEqual(held);
    expect(await client.release(semId, permit)).toEqual({ released: true });
  });
});

describe('a full semaphore at the limits', () => {
  it('fits in one item: 1,000 permits with 256-byte owners, the largest data allowed, a 1 KB lock id', async () => {
    const locks = new LockManager({ tableName, client: doc });
    const lockId = `L${'é'.repeat(511)}`; // 1,023 bytes of UTF-8
    const owner = (i: number) => `${String(i).padStart(4, '0')}${'ö'.repeat(126)}`; // 256 bytes
    // The largest data the budget allows, found from the refusal's own message.
    const refusal = await failure(
      locks.acquire(lockId, { owner: owner(0), permits: 1_000, data: { d: 'x'.repeat(4_000) } }),
    );
    expect(refusal).toMatchObject({ field: 'data' });
    const most = Number(/at most (\d+) bytes/.exec((refusal as Error).message)?.[1]);
    const data = { d: 'x'.repeat(most - JSON.stringify({ d: '' }).length) };
    expect(JSON.stringify(data)).toHaveLength(most);
    for (let i = 0; i < 1_000; i++) {
      await locks.acquire(lockId, { owner: owner(i), permits: 1_000, data, leaseMs: 600_000 });
    }
    const state = await locks.get(lockId);
    expect(state).toMatchObject({ held: true, permits: 1_000, available: 0 });
    const bytes = itemBytes((await rawItem(lockId)) ?? {});
    expect(bytes).toBeLessThanOrEqual(LIMITS.itemMaxBytes);
    console.log(`a full semaphore at the limits: ${bytes} bytes (data ${most} bytes per permit)`);
    expect(await failure(locks.acquire(lockId, { owner: 'late', permits: 1_000 }))).toBeInstanceOf(
      LockHeld,
    );
    // One byte more data is refused up front, not by DynamoDB.
    expect(
      await failure(
        locks.acquire(lockId, {
          owner: owner(0),
          permits: 1_000,
          data: { d: `${data.d}x` },
        }),
      ),
    ).toMatchObject({ field: 'data' });
  }, 300_000);

  it('reports an item DynamoDB refuses as too large as a ValidationError, not a fault', async () => {
    const locks = new LockManager({ tableName, client: doc });
    const lockId = 'bloated-semaphore';
    // An item no version of this code writes: a semaphore with 400 KB of something else.
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          lockId,
          token: 1,
          permits: 5,
          holders: {},
          permitTokens: {},
          pad: 'p'.repeat(408_000),
        },
      }),
    );
    const refusal = await failure(
      locks.acquire(lockId, { owner: 'w1', permits: 5, data: { a: 'b'.repeat(3_000) } }),
    );
    expect(refusal).not.toBeInstanceOf(LockServiceUnavailable);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal).toMatchObject({ field: 'data' });
  });
});
