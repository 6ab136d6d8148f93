import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LockHeld, LockLost, LockManager, ValidationError } from '../../lib/index.js';
import { documentClient, freshLockTable } from '../support/dynamodb.js';
import { startTransports, TRANSPORT_NAMES, type Transports } from '../support/transports.js';

let tableName: string;
let doc: DynamoDBDocumentClient;
let transports: Transports;

beforeAll(async () => {
  tableName = await freshLockTable();
  doc = documentClient();
  transports = await startTransports(tableName);
});

afterAll(async () => {
  await transports.close();
  doc.destroy();
});

describe.each(TRANSPORT_NAMES.map((name) => [name, () => transports.client(name)] as const))(
  'LockClient over %s',
  (name, makeClient) => {
    const lockId = (suffix: string) => `${name}/${suffix}/ключ 🔒`;
    const raw = () => new LockManager({ tableName, client: doc });

    it('acquires, reads, renews and releases', async () => {
      const client = makeClient();
      const id = lockId('cycle');
      const grant = await client.acquire(id, { owner: 'me', leaseMs: 5_000, data: { job: 1 } });
      expect(grant).toMatchObject({ lockId: id, owner: 'me', leaseMs: 5_000 });
      expect(await client.get(id)).toMatchObject({ held: true, owner: 'me', token: grant.token });
      expect(await raw().get(id)).toMatchObject({ held: true, owner: 'me', token: grant.token });
      const renewed = await client.renew(id, { owner: 'me', token: grant.token, leaseMs: 9_000 });
      expect(renewed).toMatchObject({ token: grant.token, leaseMs: 9_000 });
      expect(await client.release(id, grant)).toEqual({ released: true });
      expect(await client.release(id, grant)).toEqual({ released: false });
      expect((await raw().get(id)).held).toBe(false);
    });

    it('throws LockHeld naming the holder and the time left', async () => {
      const client = makeClient();
      const id = lockId('held');
      const holder = await raw().acquire(id, { owner: 'holder', leaseMs: 20_000 });
      const refusal = client.acquire(id, { owner: 'me' });
      await expect(refusal).rejects.toBeInstanceOf(LockHeld);
      const err = (await refusal.catch((e: unknown) => e)) as LockHeld;
      expect(err.name).toBe('LockHeld');
      expect(err.owner).toBe('holder');
      expect(err.retryAfterMs).toBeGreaterThan(10_000);
      expect(err.retryAfterMs).toBeLessThanOrEqual(20_000);
      expect(Math.abs(err.expiresAt - holder.expiresAt)).toBeLessThan(2_000);
    });

    it('throws LockLost for a stale renew and changes nothing', async () => {
      const client = makeClient();
      const id = lockId('lost');
      const grant = await client.acquire(id, { owner: 'me' });
      await raw().forceRelease(id);
      await expect(client.renew(id, grant)).rejects.toBeInstanceOf(LockLost);
      expect((await raw().get(id)).held).toBe(false);
    });

    it('throws ValidationError naming the field', async () => {
      const client = makeClient();
      const refusal = client.acquire(lockId('bad'), { owner: 'me', leaseMs: 10 });
      await expect(refusal).rejects.toBeInstanceOf(ValidationError);
      await expect(refusal).rejects.toMatchObject({ field: 'leaseMs' });
    });

    it('force-releases, fencing out the evicted token', async () => {
      const client = makeClient();
      const id = lockId('force');
      const grant = await client.acquire(id, { owner: 'me' });
      expect(await client.forceRelease(id)).toEqual({ released: true });
      const next = await client.acquire(id, { owner: 'next' });
      expect(next.token).toBe(grant.token + 2);
    });

    it('runs withLock with background renewal across leases', async () => {
      const client = makeClient();
      const id = lockId('with');
      const token = await client.withLock(
        id,
        async ({ token: fencing, signal }) => {
          await new Promise((resolve) => setTimeout(resolve, 2_500));
          await expect(raw().acquire(id, { owner: 'rival' })).rejects.toBeInstanceOf(LockHeld);
          expect(signal.aborted).toBe(false);
          return fencing;
        },
        { leaseMs: 1_000 },
      );
      expect((await raw().get(id)).token).toBe(token);
      expect((await raw().get(id)).held).toBe(false);
    });
  },
);
