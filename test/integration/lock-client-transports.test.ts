import { LambdaClient } from '@aws-sdk/client-lambda';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createInvokeHandler } from '../../lambdas/direct/invoke.js';
import { LockClient, LockHeld, LockLost, LockManager, ValidationError } from '../../lib/index.js';
import { readConfig } from '../../lambdas/service/config.js';
import { LockUseCase } from '../../lambdas/service/lock-use-case.js';
import { startLocalLambda, type LocalLambda } from '../../local/lambda-endpoint.js';
import { startLocalServer, type LocalServer } from '../../local/server.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';

let tableName: string;
let doc: DynamoDBDocumentClient;
let server: LocalServer;
let lambda: LocalLambda;
let lambdaClient: LambdaClient;
let service: LockUseCase;

beforeAll(async () => {
  tableName = await freshLockTable();
  doc = documentClient();
  server = await startLocalServer({ tableName, dynamodbEndpoint: endpoint(), port: 0 });
  service = new LockUseCase(
    readConfig({ LOCK_TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint() }),
  );
  lambda = await startLocalLambda({ 'lock-direct': createInvokeHandler(service) });
  lambdaClient = new LambdaClient({
    endpoint: lambda.url,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  await server.close();
  await lambda.close();
  service.close();
  lambdaClient.destroy();
  doc.destroy();
});

const transports: [string, () => LockClient][] = [
  ['dynamodb', () => new LockClient({ transport: 'dynamodb', tableName, client: doc })],
  ['http', () => new LockClient({ transport: 'http', endpoint: server.url })],
  [
    'lambda',
    () =>
      new LockClient({ transport: 'lambda', functionName: 'lock-direct', client: lambdaClient }),
  ],
];

describe.each(transports)('LockClient over %s', (name, makeClient) => {
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
});
