import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { FencedOut, LockManager, fencedRead, fencedWrite } from '../../lib/core/index.js';
import { documentClient, freshItemTable, freshLockTable } from '../support/dynamodb.js';

const doc = documentClient();
let locksTable: string;
let resourceTable: string;

beforeAll(async () => {
  locksTable = await freshLockTable();
  resourceTable = await freshItemTable('orders');
});
afterAll(() => doc.destroy());

const read = async (id: string) =>
  (await doc.send(new GetCommand({ TableName: resourceTable, Key: { id }, ConsistentRead: true })))
    .Item;

it("refuses a paused holder's late write after a takeover, and keeps the new holder's", async () => {
  let now = Date.now();
  const clock = () => now;
  const locks = new LockManager({ tableName: locksTable, client: doc, clock });
  const target = { tableName: resourceTable, key: { id: 'order-1' } };

  const paused = await locks.acquire('order-1', { owner: 'paused', leaseMs: 1_000 });
  await fencedWrite(doc, { ...target, token: paused.token, set: { status: 'packing' } });

  // The first holder stops (GC, swap) past its lease; another takes over and claims the item.
  now += 5_000;
  const fresh = await locks.acquire('order-1', { owner: 'fresh' });
  const seen = await fencedRead(doc, { ...target, token: fresh.token });
  expect(seen.status).toBe('packing');
  await fencedWrite(doc, { ...target, token: fresh.token, set: { status: 'shipped' } });

  // The paused holder wakes and writes as if it still held the lock.
  const late = fencedWrite(doc, { ...target, token: paused.token, set: { status: 'cancelled' } });
  await expect(late).rejects.toBeInstanceOf(FencedOut);
  await expect(late).rejects.toMatchObject({
    name: 'FencedOut',
    token: paused.token,
    acceptedToken: fresh.token,
  });
  expect(await read('order-1')).toEqual({
    id: 'order-1',
    status: 'shipped',
    lockToken: fresh.token,
  });
});

it('lets a claim alone fence out a late write that would have been a lost update', async () => {
  const target = { tableName: resourceTable, key: { id: 'counter' } };
  await fencedWrite(doc, { ...target, token: 10, set: { value: 1 } });
  const claimed = await fencedRead(doc, { ...target, token: 11 });
  await expect(
    fencedWrite(doc, { ...target, token: 10, set: { value: 99 } }),
  ).rejects.toBeInstanceOf(FencedOut);
  await fencedWrite(doc, { ...target, token: 11, set: { value: Number(claimed.value) + 1 } });
  expect(await read('counter')).toMatchObject({ value: 2, lockToken: 11 });
});

it('accepts the same token repeatedly and supports removing attributes', async () => {
  const target = { tableName: resourceTable, key: { id: 'repeat' }, token: 7 };
  await fencedWrite(doc, { ...target, set: { a: 1, b: 2 } });
  await fencedWrite(doc, { ...target, set: { a: 3 }, remove: ['b'] });
  expect(await read('repeat')).toEqual({ id: 'repeat', a: 3, lockToken: 7 });
});

it('refuses to let the caller overwrite the token attribute', async () => {
  await expect(
    fencedWrite(doc, {
      tableName: resourceTable,
      key: { id: 'x' },
      token: 1,
      set: { lockToken: 999 },
    }),
  ).rejects.toMatchObject({ name: 'ValidationError' });
  expect(await read('x')).toBeUndefined();
});
