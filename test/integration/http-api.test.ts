import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { API_KINDS } from '../../lib/contract/http.js';
import { type LocalServer, startLocalServer } from '../../local/server.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';

// Quiet Powertools: the handler code path is unchanged, only its output is off.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const doc = documentClient();
afterAll(() => doc.destroy());

// Every test runs against the local server as a REST API (v1 events) and as an HTTP API (v2
// events), each on its own table: the same handler must answer both alike.
describe.each(API_KINDS)('HTTP API over the local server (%s events)', (api) => {
  let server: LocalServer;
  let tableName: string;

  beforeAll(async () => {
    tableName = await freshLockTable(`http-api-${api}`);
    server = await startLocalServer({ tableName, dynamodbEndpoint: endpoint(), port: 0, api });
  });

  afterAll(async () => {
    await server?.close();
  });

  async function call(method: string, path: string, body?: unknown) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: JSON.parse(text) as Record<string, unknown>,
    };
  }

  const readItem = async (lockId: string) =>
    (
      await doc.send(
        new GetCommand({ TableName: tableName, Key: { lockId }, ConsistentRead: true }),
      )
    ).Item;

  // A "/" in a lock id: the REST API hands the path over still encoded; the HTTP API decodes it
  // before routing, where the "/" splits the id (docs/http-api-v2.md), so it grants another id.
  const grantedId = api === 'rest' ? 'orders/42' : 'orders:42';

  test('acquire answers 200 with the grant, as JSON', async () => {
    const path = `/locks/${encodeURIComponent(grantedId)}/acquire`;
    const res = await call('POST', path, { owner: 'w1', leaseMs: 10_000 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(Object.keys(res.body).sort()).toEqual([
      'expiresAt',
      'leaseMs',
      'lockId',
      'owner',
      'token',
    ]);
    expect(res.body).toMatchObject({ lockId: grantedId, owner: 'w1', leaseMs: 10_000 });
    const item = await readItem(grantedId);
    expect(item).toMatchObject({
      owner: 'w1',
      token: res.body.token,
      expiresAt: res.body.expiresAt,
    });
  });

  test('acquire by another owner answers 409 LockHeld naming the holder', async () => {
    const first = await call('POST', '/locks/held/acquire', { owner: 'w1', leaseMs: 20_000 });
    const res = await call('POST', '/locks/held/acquire', { owner: 'w2' });
    expect(res.status).toBe(409);
    expect(Object.keys(res.body).sort()).toEqual([
      'error',
      'expiresAt',
      'message',
      'owner',
      'retryAfterMs',
    ]);
    expect(res.body).toMatchObject({
      error: 'LockHeld',
      owner: 'w1',
      expiresAt: first.body.expiresAt,
    });
    expect(res.body.retryAfterMs).toBeGreaterThan(0);
    expect(res.body.retryAfterMs).toBeLessThanOrEqual(20_000);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  test('a retried acquire by the holder gets the same grant back', async () => {
    const first = await call('POST', '/locks/retry/acquire', { owner: 'w1' });
    const again = await call('POST', '/locks/retry/acquire', { owner: 'w1' });
    expect(again.status).toBe(200);
    expect(again.body.token).toBe(first.body.token);
  });

  test('acquire with waitMs waits for an expiring lease, then takes it over', async () => {
    await call('POST', '/locks/waited/acquire', { owner: 'w1', leaseMs: 1_000 });
    const res = await call('POST', '/locks/waited/acquire', { owner: 'w2', waitMs: 10_000 });
    expect(res.status).toBe(200);
    expect(res.body.owner).toBe('w2');
  });

  test('renew answers 200 with the extended grant; a stale token answers 409 LockLost', async () => {
    const grant = (await call('POST', '/locks/renewed/acquire', { owner: 'w1', leaseMs: 5_000 }))
      .body;
    const res = await call('POST', '/locks/renewed/renew', {
      owner: 'w1',
      token: grant.token,
      leaseMs: 60_000,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      lockId: 'renewed',
      owner: 'w1',
      token: grant.token,
      leaseMs: 60_000,
    });
    expect(res.body.expiresAt as number).toBeGreaterThan(grant.expiresAt as number);

    const lost = await call('POST', '/locks/renewed/renew', {
      owner: 'w1',
      token: (grant.token as number) - 1,
    });
    expect(lost.status).toBe(409);
    expect(lost.body).toEqual({ error: 'LockLost', message: expect.any(String) });
    expect((await readItem('renewed'))?.expiresAt).toBe(res.body.expiresAt);
  });

  test('release answers 200 released true, then false on a retry', async () => {
    const grant = (await call('POST', '/locks/released/acquire', { owner: 'w1' })).body;
    const body = { owner: 'w1', token: grant.token };
    expect(await call('POST', '/locks/released/release', body)).toMatchObject({
      status: 200,
      body: { released: true },
    });
    expect(await call('POST', '/locks/released/release', body)).toMatchObject({
      status: 200,
      body: { released: false },
    });
    expect((await readItem('released'))?.owner).toBeUndefined();
  });

  test('GET answers the state of a held, a released and a never-used lock', async () => {
    const grant = (await call('POST', '/locks/state/acquire', { owner: 'w1' })).body;
    const held = await call('GET', '/locks/state');
    expect(held.status).toBe(200);
    expect(held.body).toEqual({
      lockId: 'state',
      held: true,
      owner: 'w1',
      token: grant.token,
      expiresAt: grant.expiresAt,
      leaseMs: grant.leaseMs,
      acquiredAt: (grant.expiresAt as number) - (grant.leaseMs as number),
      transitions: 0,
    });
    await call('POST', '/locks/state/release', { owner: 'w1', token: grant.token });
    expect((await call('GET', '/locks/state')).body).toEqual({
      lockId: 'state',
      held: false,
      token: grant.token,
      transitions: 0,
    });
    expect(await call('GET', '/locks/never-used')).toMatchObject({
      status: 200,
      body: { lockId: 'never-used', held: false },
    });
  });

  test('DELETE force-releases and fences out the evicted holder', async () => {
    const grant = (await call('POST', '/locks/forced/acquire', { owner: 'w1' })).body;
    const res = await call('DELETE', '/locks/forced');
    expect(res).toMatchObject({ status: 200, body: { released: true } });
    expect((await readItem('forced'))?.token).toBe((grant.token as number) + 1);
    expect((await call('DELETE', '/locks/forced')).body).toEqual({ released: false });
    const renew = await call('POST', '/locks/forced/renew', { owner: 'w1', token: grant.token });
    expect(renew.status).toBe(409);
  });

  test.each(['/locks', '/locks/', '/locks?prefix=state&limit=5'])(
    'GET %s lists locks, one page',
    async (path) => {
      const res = await call('GET', path);
      expect(res.status).toBe(200);
      expect(Array.isArray(res.body.locks)).toBe(true);
    },
  );

  test('other methods on /locks answer 405 naming GET', async () => {
    const res = await call('POST', '/locks', {});
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });

  test.each([
    ['GET', '/'],
    ['POST', '/locks/a/steal'],
    ['GET', '/locks/a/acquire/extra'],
    ['POST', '/unlock/a/acquire'],
  ])('%s %s answers 404 with a JSON error', async (method, path) => {
    const res = await call(method, path);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'NotFound', message: expect.any(String) });
  });

  test.each([
    ['PUT', '/locks/a/acquire', 'POST'],
    ['GET', '/locks/a/renew', 'POST'],
    ['DELETE', '/locks/a/release', 'POST'],
    ['POST', '/locks/a', 'GET, DELETE'],
    ['PATCH', '/locks/a', 'GET, DELETE'],
  ])('%s %s answers 405 naming the allowed methods', async (method, path, allow) => {
    const res = await call(method, path);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.body).toEqual({ error: 'MethodNotAllowed', message: expect.any(String) });
  });

  test('an unexpected fault answers 500 InternalError without leaking internals', async () => {
    const missingTable = 'no-such-table-7f3e';
    const broken = await startLocalServer({
      tableName: missingTable,
      dynamodbEndpoint: endpoint(),
      port: 0,
      api,
    });
    try {
      for (const [method, path, body] of [
        ['POST', '/locks/x/acquire', { owner: 'w1' }],
        ['GET', '/locks/x', undefined],
      ] as const) {
        const response = await fetch(`${broken.url}${path}`, {
          method,
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        const text = await response.text();
        expect(response.status).toBe(500);
        expect(response.headers.get('content-type')).toBe('application/json');
        const parsed = JSON.parse(text) as Record<string, unknown>;
        expect(Object.keys(parsed).sort()).toEqual(['error', 'message']);
        expect(parsed.error).toBe('InternalError');
        for (const secret of [
          missingTable,
          'ResourceNotFound',
          'non-existent',
          'DynamoDB',
          'Exception',
          '.ts:',
          '    at ',
        ]) {
          expect(text).not.toContain(secret);
        }
      }
    } finally {
      await broken.close();
    }
  });

  if (api === 'http') {
    test('a lock id with "/" meets no route on the HTTP API: 404, nothing written', async () => {
      const res = await call('POST', '/locks/orders%2F42/acquire', { owner: 'w1' });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: 'NotFound', message: expect.any(String) });
      expect(await readItem('orders/42')).toBeUndefined();
    });
  }
});
