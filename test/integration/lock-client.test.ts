import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  LockClient,
  LockHeld,
  LockLost,
  FencedOut,
  LockManager,
  ValidationError,
  type LockState,
} from '../../lib/index.js';
import { documentClient, freshItemTable, freshLockTable } from '../support/dynamodb.js';

let tableName: string;
let doc: DynamoDBDocumentClient;
let seq = 0;
const lockName = () => `client-${++seq}`;

let resourceTable: string;

beforeAll(async () => {
  tableName = await freshLockTable();
  doc = documentClient();
  resourceTable = await freshItemTable('resources');
});
afterAll(() => doc.destroy());

const dynamoClient = () => new LockClient({ transport: 'dynamodb', tableName, client: doc });

describe('withLock over the library transport', () => {
  it('runs the function under the lock, passes the token and releases afterwards', async () => {
    const client = dynamoClient();
    const lockId = lockName();
    let seen: LockState | undefined;
    const result = await client.withLock(lockId, async ({ token, signal }) => {
      seen = await client.get(lockId);
      expect(signal.aborted).toBe(false);
      expect(seen.token).toBe(token);
      return 'done';
    });
    expect(result).toBe('done');
    expect(seen?.held).toBe(true);
    expect((await client.get(lockId)).held).toBe(false);
  });

  it('releases the lock when the function throws, and rethrows its error', async () => {
    const client = dynamoClient();
    const lockId = lockName();
    await expect(
      client.withLock(lockId, async () => {
        throw new Error('section failed');
      }),
    ).rejects.toThrow('section failed');
    expect((await client.get(lockId)).held).toBe(false);
  });

  it('renews in the background across several leases, keeping others out', async () => {
    const client = dynamoClient();
    const lockId = lockName();
    const rival = new LockManager({ tableName, client: doc });
    const refusals: number[] = [];
    await client.withLock(
      lockId,
      async ({ token, signal }) => {
        // Hold for more than three leases; a rival tries after each lease would have ended.
        for (let i = 0; i < 4; i++) {
          await new Promise((resolve) => setTimeout(resolve, 1_100));
          await expect(rival.acquire(lockId, { owner: 'rival' })).rejects.toBeInstanceOf(LockHeld);
          refusals.push(i);
        }
        expect(signal.aborted).toBe(false);
        expect((await client.get(lockId)).token).toBe(token);
      },
      { leaseMs: 1_000 },
    );
    expect(refusals).toHaveLength(4);
    await expect(rival.acquire(lockId, { owner: 'rival' })).resolves.toMatchObject({
      owner: 'rival',
    });
  });

  it('aborts the signal with LockLost as soon as a renew finds the lock force-released', async () => {
    const client = dynamoClient();
    const lockId = lockName();
    const operator = new LockManager({ tableName, client: doc });
    const reason = await client.withLock(
      lockId,
      async ({ signal }) => {
        await operator.forceRelease(lockId);
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve, reject) => {
          signal.addEventListener('abort', () => resolve(), { once: true });
          timer = setTimeout(() => reject(new Error('signal never fired')), 10_000);
        });
        clearTimeout(timer);
        return signal.reason as unknown;
      },
      { leaseMs: 3_000 },
    );
    expect(reason).toBeInstanceOf(LockLost);
    // The refused renew (after 1 s) fired it, not the local expiry timer (after 3 s).
    expect((reason as LockLost).message).toMatch(/no longer held by this owner and token/);
  });

  it('waits for a held lock up to waitMs', async () => {
    const client = dynamoClient();
    const lockId = lockName();
    const holder = await client.acquire(lockId, { owner: 'holder', leaseMs: 1_000 });
    const token = await client.withLock(lockId, async ({ token }) => token, { waitMs: 5_000 });
    expect(token).toBeGreaterThan(holder.token);
  });

  it('keeps a lease it waited longer than the lease for', async () => {
    const client = dynamoClient();
    const lockId = lockName();
    const rival = new LockManager({ tableName, client: doc });
    await client.acquire(lockId, { owner: 'holder', leaseMs: 2_000 });
    const seen = await client.withLock(
      lockId,
      async ({ signal }) => {
        // The wait outlasted this 1 s lease; the lease itself began only when it was granted.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        const refused = await rival.acquire(lockId, { owner: 'rival' }).then(
          () => false,
          (err: unknown) => err instanceof LockHeld,
        );
        return { aborted: signal.aborted, refused };
      },
      { leaseMs: 1_000, waitMs: 10_000 },
    );
    expect(seen).toEqual({ aborted: false, refused: true });
  });

  it('refuses at once when the lock is held and no wait is given', async () => {
    const client = dynamoClient();
    const lockId = lockName();
    await client.acquire(lockId, { owner: 'holder', leaseMs: 10_000 });
    let ran = false;
    await expect(
      client.withLock(lockId, async () => {
        ran = true;
      }),
    ).rejects.toBeInstanceOf(LockHeld);
    expect(ran).toBe(false);
  });

  it("fences out a paused section's late write through the client", async () => {
    const client = dynamoClient();
    const lockId = lockName();
    const target = { tableName: resourceTable, key: { id: lockId } };
    let resume: () => void = () => {};
    const paused = client.withLock(
      lockId,
      async ({ token }) => {
        await client.fencedRead({ ...target, token });
        // Stalls past its lease (no renewal gets through while it is stopped).
        await new Promise<void>((resolve) => (resume = resolve));
        return client.fencedWrite({ ...target, token, set: { by: 'paused' } });
      },
      { leaseMs: 1_000, renewEveryMs: 60_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const next = await client.withLock(lockId, async ({ token }) => {
      const seen = await client.fencedRead({ ...target, token });
      await client.fencedWrite({ ...target, token, set: { by: 'next' } });
      return { token, seen };
    });
    resume();
    await expect(paused).rejects.toBeInstanceOf(FencedOut);
    const item = await client.fencedRead({ ...target, token: next.token });
    expect(item).toMatchObject({ by: 'next', lockToken: next.token });
  });

  it('validates its options before touching the lock', async () => {
    await expect(
      dynamoClient().withLock(lockName(), async () => 1, { leaseMs: 5 }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});
