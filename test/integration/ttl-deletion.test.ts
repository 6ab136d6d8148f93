import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { LockManager } from '../../lib/core/index.js';
import { createLockTable } from '../../lib/index.js';
import {
  localDocumentClient,
  startDynamoDbLocal,
  type DynamoDbLocal,
} from '../../local/dynamodb-local.js';
import { documentClient, freshLockTable } from '../support/dynamodb.js';

// DynamoDB Local's TTL sweeper walks every TTL-enabled table; with the rest of the suite's tables
// and items on the shared server it can take minutes to reach ours, so this test has its own.
let own: DynamoDbLocal;
beforeAll(async () => {
  own = await startDynamoDbLocal();
});
afterAll(() => own?.stop());

it('keeps tokens increasing after DynamoDB Local deletes the lock item by TTL', async () => {
  const tableName = 'locks-ttl';
  const doc = localDocumentClient(own.endpoint);
  await createLockTable(doc, tableName);
  // No retention: the released item becomes eligible for TTL deletion at once.
  const locks = new LockManager({ tableName, client: doc, retentionMs: 0 });
  const tokens: number[] = [];
  for (let round = 0; round < 5; round++) {
    const grant = await locks.acquire('ephemeral', { owner: `r${round}` });
    tokens.push(grant.token);
    await locks.release('ephemeral', grant);
  }
  // Force a few extra bumps so the old counter is ahead of where a naive restart would begin.
  await locks.acquire('ephemeral', { owner: 'evicted' });
  await locks.forceRelease('ephemeral');
  const last = await locks.acquire('ephemeral', { owner: 'last' });
  tokens.push(last.token);
  await locks.release('ephemeral', last);

  const item = async () =>
    (
      await doc.send(
        new GetCommand({
          TableName: tableName,
          Key: { lockId: 'ephemeral' },
          ConsistentRead: true,
        }),
      )
    ).Item;
  expect((await item())?.token).toBe(last.token);
  // DynamoDB Local deletes expired items lazily, after one to tens of seconds.
  const deadline = Date.now() + 90_000;
  while ((await item()) !== undefined) {
    if (Date.now() > deadline) throw new Error('DynamoDB Local never deleted the expired item');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  const reborn = await locks.acquire('ephemeral', { owner: 'after-ttl' });
  expect(reborn.token).toBeGreaterThan(Math.max(...tokens));
  for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]);
  doc.destroy();
}, 120_000);

it('sets every item to expire a retention after its lease ends or it is released', async () => {
  const tableName = await freshLockTable();
  const doc = documentClient();
  const now = 1_800_000_000_000;
  const locks = new LockManager({
    tableName,
    client: doc,
    clock: () => now,
    retentionMs: 3_600_000,
  });
  const ttlOf = async () =>
    (await doc.send(new GetCommand({ TableName: tableName, Key: { lockId: 'kept' } }))).Item?.ttl;
  const grant = await locks.acquire('kept', { owner: 'a', leaseMs: 10_000 });
  expect(await ttlOf()).toBe((now + 10_000 + 3_600_000) / 1000);
  await locks.release('kept', grant);
  expect(await ttlOf()).toBe((now + 3_600_000) / 1000);
  doc.destroy();
});
