import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { API_KINDS, type ApiKind } from '../../lib/contract/http.js';
import { type LocalServer, startLocalServer } from '../../local/server.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const doc = documentClient();
afterAll(() => doc.destroy());
/** A lock held by "holder": any accepted renew, release or acquire by it would change its item. */
const HELD = 'bad-input-held';
/** A released lock (token only): any accepted acquire would change its item. */
const FREE = 'bad-input-free';

// Each kind of API gets its own server and table; every case runs against both.
describe.each(API_KINDS)('over the local server (%s events)', (api: ApiKind) => {
  let server: LocalServer;
  let tableName: string;
  let token = 0;

  async function send(method: string, path: string, body?: string) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const readItem = async (lockId: string) =>
    (
      await doc.send(
        new GetCommand({ TableName: tableName, Key: { lockId }, ConsistentRead: true }),
      )
    ).Item;

  beforeAll(async () => {
    tableName = await freshLockTable(`http-bad-input-${api}`);
    server = await startLocalServer({ tableName, dynamodbEndpoint: endpoint(), port: 0, api });
    const held = await send(
      'POST',
      `/locks/${HELD}/acquire`,
      JSON.stringify({ owner: 'holder', leaseMs: 600_000 }),
    );
    token = held.body.token as number;
    const free = await send('POST', `/locks/${FREE}/acquire`, JSON.stringify({ owner: 'holder' }));
    await send(
      'POST',
      `/locks/${FREE}/release`,
      JSON.stringify({ owner: 'holder', token: free.body.token }),
    );
  });

  afterAll(async () => {
    await server?.close();
  });

  const json = (value: unknown) => JSON.stringify(value);
  const acquire = `/locks/${FREE}/acquire`;
  const renew = `/locks/${HELD}/renew`;
  const release = `/locks/${HELD}/release`;
  const renewWith = (fields: Record<string, unknown>) =>
    json({ owner: 'holder', token: -1, ...fields });

  // [case, method, path, body (raw text; a function sees the held token), expected field]
  type Case = [string, string, string, string | (() => string) | undefined, string];
  const cases: Case[] = [
    ['malformed JSON', 'POST', acquire, '{"owner":', 'body'],
    ['form-encoded body', 'POST', acquire, 'owner=me&leaseMs=1000', 'body'],
    ['empty body', 'POST', acquire, undefined, 'body'],
    ['JSON null', 'POST', acquire, 'null', 'body'],
    ['JSON array', 'POST', acquire, '[{"owner":"me"}]', 'body'],
    ['JSON string', 'POST', acquire, '"me"', 'body'],
    [
      'body over 16 KB',
      'POST',
      acquire,
      json({ owner: 'me', data: { pad: 'x'.repeat(20_000) } }),
      'body',
    ],
    ['body over the local server cap (2 MB)', 'POST', acquire, 'x'.repeat(2 * 1024 * 1024), 'body'],
    ['missing owner', 'POST', acquire, json({ leaseMs: 5_000 }), 'owner'],
    ['owner a number', 'POST', acquire, json({ owner: 42 }), 'owner'],
    ['owner null', 'POST', acquire, json({ owner: null }), 'owner'],
    ['owner empty', 'POST', acquire, json({ owner: '' }), 'owner'],
    ['owner over 256 bytes', 'POST', acquire, json({ owner: 'é'.repeat(129) }), 'owner'],
    ['leaseMs a string', 'POST', acquire, json({ owner: 'me', leaseMs: '5000' }), 'leaseMs'],
    ['leaseMs negative', 'POST', acquire, json({ owner: 'me', leaseMs: -5_000 }), 'leaseMs'],
    ['leaseMs fractional', 'POST', acquire, json({ owner: 'me', leaseMs: 1_500.5 }), 'leaseMs'],
    ['leaseMs below the minimum', 'POST', acquire, json({ owner: 'me', leaseMs: 999 }), 'leaseMs'],
    ['leaseMs huge', 'POST', acquire, json({ owner: 'me', leaseMs: 1e20 }), 'leaseMs'],
    [
      'leaseMs overflowing to Infinity',
      'POST',
      acquire,
      '{"owner":"me","leaseMs":1e400}',
      'leaseMs',
    ],
    ['waitMs negative', 'POST', acquire, json({ owner: 'me', waitMs: -1 }), 'waitMs'],
    ['waitMs a boolean', 'POST', acquire, json({ owner: 'me', waitMs: true }), 'waitMs'],
    ['waitMs past the HTTP cap', 'POST', acquire, json({ owner: 'me', waitMs: 25_001 }), 'waitMs'],
    ['data an array', 'POST', acquire, json({ owner: 'me', data: [1, 2] }), 'data'],
    ['data a string', 'POST', acquire, json({ owner: 'me', data: 'x' }), 'data'],
    [
      'data over 4 KB',
      'POST',
      acquire,
      json({ owner: 'me', data: { pad: 'x'.repeat(5_000) } }),
      'data',
    ],
    ['unknown field (misspelt)', 'POST', acquire, json({ owner: 'me', leaseMS: 5_000 }), 'leaseMS'],
    ['field of another route', 'POST', acquire, json({ owner: 'me', token: 1 }), 'token'],
    [
      'lockId over 1024 bytes',
      'POST',
      `/locks/${'k'.repeat(1_025)}/acquire`,
      json({ owner: 'me' }),
      'lockId',
    ],
    [
      'lockId over 1024 bytes once decoded',
      'POST',
      `/locks/${encodeURIComponent('锁'.repeat(342))}/acquire`,
      json({ owner: 'me' }),
      'lockId',
    ],
    ['lockId with a stray %', 'POST', '/locks/50%25off%/acquire', json({ owner: 'me' }), 'lockId'],
    ['lockId with a bad %-escape', 'POST', '/locks/%ZZ/acquire', json({ owner: 'me' }), 'lockId'],
    ['lockId of invalid UTF-8', 'POST', '/locks/%C3%28/acquire', json({ owner: 'me' }), 'lockId'],
    [
      'lockId of a lone surrogate',
      'POST',
      '/locks/%ED%A0%80/acquire',
      json({ owner: 'me' }),
      'lockId',
    ],
    ['GET with a malformed lockId', 'GET', '/locks/%E0%A4%A', undefined, 'lockId'],
    [
      'DELETE with an over-long lockId',
      'DELETE',
      `/locks/${'k'.repeat(1_025)}`,
      undefined,
      'lockId',
    ],
    ['renew without token', 'POST', renew, json({ owner: 'holder' }), 'token'],
    [
      'renew with a string token',
      'POST',
      renew,
      () => json({ owner: 'holder', token: String(token) }),
      'token',
    ],
    ['renew with token 0', 'POST', renew, json({ owner: 'holder', token: 0 }), 'token'],
    [
      'renew with a fractional token',
      'POST',
      renew,
      () => json({ owner: 'holder', token: token + 0.5 }),
      'token',
    ],
    [
      'renew with an unsafe integer token',
      'POST',
      renew,
      json({ owner: 'holder', token: 2 ** 53 + 2 }),
      'token',
    ],
    [
      'renew of the holder with a bad leaseMs',
      'POST',
      renew,
      () => renewWith({ token, leaseMs: 50_000_000 }),
      'leaseMs',
    ],
    [
      'renew of the holder with leaseMs null',
      'POST',
      renew,
      () => renewWith({ token, leaseMs: null }),
      'leaseMs',
    ],
    [
      'renew of the holder with an unknown field',
      'POST',
      renew,
      () => renewWith({ token, force: true }),
      'force',
    ],
    [
      'release of the holder with an unknown field',
      'POST',
      release,
      () => json({ owner: 'holder', token, all: true }),
      'all',
    ],
    [
      'release with owner an object',
      'POST',
      release,
      () => json({ owner: { id: 'holder' }, token }),
      'owner',
    ],
    [
      'release with a negative token',
      'POST',
      release,
      json({ owner: 'holder', token: -token }),
      'token',
    ],
  ];

  describe('bad input over HTTP', () => {
    test.each(cases)(
      '%s: 400 naming the field, lock unchanged',
      async (_name, method, path, body, field) => {
        const before = { held: await readItem(HELD), free: await readItem(FREE) };
        const res = await send(method, path, typeof body === 'function' ? body() : body);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({ error: 'ValidationError', message: expect.any(String), field });
        expect({ held: await readItem(HELD), free: await readItem(FREE) }).toEqual(before);
      },
    );

    test('the waitMs refusal says the HTTP API is capped below the API Gateway timeout', async () => {
      const res = await send('POST', acquire, json({ owner: 'me', waitMs: 60_000 }));
      expect(res.body.message).toMatch(/at most 25000 .*API Gateway.*29 s/);
    });

    test('an over-long lockId creates no item', async () => {
      const lockId = 'k'.repeat(1_025);
      await send('POST', `/locks/${lockId}/acquire`, json({ owner: 'me' }));
      expect(await readItem(lockId)).toBeUndefined();
    });
  });

  describe('Unicode and reserved characters in lock ids', () => {
    const ids: [string, string][] = [
      ['accented', 'café-crème'],
      ['CJK with slashes', '锁/订单/42'],
      ['emoji (astral plane)', '🔒 deploy 🚀'],
      ['combining marks', 'e\u0301\u0323'],
      ['URL-reserved characters', 'a b?c#d%e&f+g=h;i:j@k,l'],
      ['right-to-left', 'قفل'],
      ['exactly 1024 bytes', '🔒'.repeat(256)],
    ];
    // The HTTP API decodes the path before routing (docs/http-api-v2.md): a "/" splits the id
    // into segments no route takes, and a "%" left after decoding cannot be trusted.
    const carried = ([, lockId]: [string, string]) => api === 'rest' || !/[/%]/.test(lockId);

    test.each(ids.filter(carried))(
      '%s: acquire, GET and release round-trip the exact id',
      async (_name, lockId) => {
        const path = `/locks/${encodeURIComponent(lockId)}`;
        const grant = await send('POST', `${path}/acquire`, json({ owner: 'u1' }));
        expect(grant.status).toBe(200);
        expect(grant.body.lockId).toBe(lockId);
        expect(await readItem(lockId)).toMatchObject({
          lockId,
          owner: 'u1',
          token: grant.body.token,
        });
        expect((await send('GET', path)).body).toMatchObject({ lockId, held: true, owner: 'u1' });
        const released = await send(
          'POST',
          `${path}/release`,
          json({ owner: 'u1', token: grant.body.token }),
        );
        expect(released.body).toEqual({ released: true });
      },
    );

    const refused = ids.filter((id) => !carried(id));
    if (refused.length > 0) {
      test.each(refused)('%s: refused on the HTTP API, nothing written', async (_name, lockId) => {
        const res = await send(
          'POST',
          `/locks/${encodeURIComponent(lockId)}/acquire`,
          json({ owner: 'u1' }),
        );
        expect(res.body).toEqual(
          lockId.includes('/')
            ? { error: 'NotFound', message: expect.any(String) }
            : { error: 'ValidationError', message: expect.any(String), field: 'lockId' },
        );
        expect(res.status).toBe(lockId.includes('/') ? 404 : 400);
        expect(await readItem(lockId)).toBeUndefined();
      });
    }
  });
});
