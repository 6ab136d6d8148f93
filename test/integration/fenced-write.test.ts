import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  FencedOut,
  FencedWriteRejected,
  LockManager,
  ValidationError,
  fencedRead,
  fencedWrite,
} from '../../lib/core/index.js';
import {
  documentClient,
  dynamoClient,
  freshItemTable,
  freshLockTable,
} from '../support/dynamodb.js';

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

describe('undefined values in set are skipped at every depth', () => {
  // A DocumentClient as users often build it, without `removeUndefinedValues`: the fenced write
  // must not depend on that option.
  const plain = DynamoDBDocumentClient.from(dynamoClient());
  afterAll(() => plain.destroy());

  it.each([
    ['the package client (removeUndefinedValues)', () => doc],
    ['a plain DocumentClient', () => plain],
  ])('with %s', async (_title, client) => {
    const id = `undefined-${randomUUID()}`;
    const target = { tableName: resourceTable, key: { id }, token: 3 };
    await fencedWrite(client(), { ...target, set: { items: ['a'], note: 'kept' } });
    // What the README's example does on an order without items: `items: order.items`.
    const order = await fencedRead(client(), target);
    await fencedWrite(client(), {
      ...target,
      set: {
        status: 'shipped',
        note: undefined,
        items: order.missing,
        address: { city: 'Oslo', zip: undefined, lines: ['1 Main St', undefined] },
        tags: new Set(['x', undefined]),
      },
    });
    expect(await read(id)).toEqual({
      id,
      items: ['a'],
      note: 'kept',
      status: 'shipped',
      address: { city: 'Oslo', lines: ['1 Main St'] },
      tags: new Set(['x']),
      lockToken: 3,
    });
  });
});

it("reports DynamoDB's own ValidationException as FencedWriteRejected, not ValidationError", async () => {
  // The table's key `id` is a string; a number key is DynamoDB's to refuse.
  const write = fencedWrite(doc, {
    tableName: resourceTable,
    key: { id: 42 },
    token: 1,
    set: { status: 'x' },
  });
  await expect(write).rejects.toBeInstanceOf(FencedWriteRejected);
  await expect(write).rejects.not.toBeInstanceOf(ValidationError);
  await expect(write).rejects.toMatchObject({
    name: 'FencedWriteRejected',
    tableName: resourceTable,
    message: expect.stringMatching(/^DynamoDB refused the fenced write to table "[^"]+": /),
    cause: expect.objectContaining({ name: 'ValidationException' }),
  });
  const read = fencedRead(doc, { tableName: resourceTable, key: { id: 42 }, token: 1 });
  await expect(read).rejects.toBeInstanceOf(FencedWriteRejected);
});
