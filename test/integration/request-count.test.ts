import { createDocumentClient, LockManager } from '../../lib/core/index.js';
import { countRequests, dynamoClient, freshLockTable } from '../support/dynamodb.js';

it('spends exactly one DynamoDB request per acquire, takeover, renew and release', async () => {
  const tableName = await freshLockTable();
  const ddb = dynamoClient();
  const counter = countRequests(ddb);
  const doc = createDocumentClient(ddb);
  let now = Date.now();
  const locks = new LockManager({ tableName, client: doc, clock: () => now });

  const measure = async (op: () => Promise<unknown>) => {
    counter.reset();
    await op();
    return Object.fromEntries(counter.counts);
  };

  const grant = await locks.acquire('counted', { owner: 'a', leaseMs: 1_000 });
  expect(counter.total()).toBe(1);
  expect(Object.fromEntries(counter.counts)).toEqual({ UpdateItem: 1 });

  now += 1_000;
  let taken = grant;
  expect(
    await measure(async () => (taken = await locks.acquire('counted', { owner: 'b' }))),
  ).toEqual({ UpdateItem: 1 });
  expect(taken.token).toBe(grant.token + 1);

  expect(await measure(() => locks.renew('counted', taken))).toEqual({ UpdateItem: 1 });
  expect(await measure(() => locks.acquire('counted', { owner: 'b' }))).toEqual({
    UpdateItem: 1,
  });
  expect(await measure(() => locks.release('counted', taken))).toEqual({ UpdateItem: 1 });
  expect(await measure(() => locks.acquire('counted', { owner: 'c' }))).toEqual({
    UpdateItem: 1,
  });
  ddb.destroy();
});

it('names the holder of a refused acquire without a second request', async () => {
  const tableName = await freshLockTable();
  const ddb = dynamoClient();
  const counter = countRequests(ddb);
  const locks = new LockManager({ tableName, client: createDocumentClient(ddb) });
  await locks.acquire('busy', { owner: 'a' });
  counter.reset();
  await expect(locks.acquire('busy', { owner: 'b' })).rejects.toMatchObject({ owner: 'a' });
  expect(Object.fromEntries(counter.counts)).toEqual({ UpdateItem: 1 });
  ddb.destroy();
});
