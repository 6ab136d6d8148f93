import { matchPath, pathFor, ROUTES } from '../../lib/contract/http.js';
import { OPERATION_NAMES, OPERATIONS } from '../../lib/contract/operations.js';
import { MethodNotAllowed, NotFound } from '../../lambdas/http/http-errors.js';
import { decodeLockId, parseHttpRequest, readJsonBody } from '../../lambdas/http/requests.js';
import { type ApiEvent, toApiRequest } from '../../lambdas/http/events.js';
import { route } from '../../lambdas/http/routes.js';
import { fieldOf } from '../support/errors.js';

/** A REST API (v1) proxy event, as much of one as routing reads. */
const restEvent = (fields: Record<string, unknown>) => toApiRequest(fields as unknown as ApiEvent);
const event = (httpMethod: string, path: string, resource = '/{proxy+}') =>
  restEvent({ httpMethod, path, resource, pathParameters: null });

describe('routes', () => {
  it('has one route per operation of the contract, each operation reachable once', () => {
    const routed = Object.values(ROUTES).flatMap((methods) => Object.values(methods));
    expect(routed.sort()).toEqual([...OPERATION_NAMES].sort());
  });

  it.each(OPERATION_NAMES.map((operation) => [operation]))(
    'routes %s from its raw path, for awkward lock ids too',
    (operation) => {
      for (const lockId of ['a', 'orders/42', 'ключ 🔒', '%', 'a?b#c']) {
        const path = pathFor(operation, lockId);
        const found = route(event(OPERATIONS[operation].method, path));
        expect(found.action).toBe(operation);
        expect(decodeLockId(found.lockId)).toBe(lockId);
      }
    },
  );

  it('prefers the resource API Gateway matched, with its path parameter', () => {
    const found = route(
      restEvent({
        httpMethod: 'POST',
        path: '/prod/locks/x/renew',
        resource: '/locks/{lockId}/renew',
        pathParameters: { lockId: 'x%2Fy' },
      }),
    );
    expect(found).toEqual({ action: 'renew', lockId: 'x%2Fy' });
  });

  it('tolerates a trailing slash', () => {
    expect(matchPath('/locks/a/acquire/')).toEqual({
      resource: '/locks/{lockId}/acquire',
      rawLockId: 'a',
    });
  });

  it.each([['/'], ['/locks'], ['/locks/'], ['/locks/a/b'], ['/locks/a/steal'], ['/other/a']])(
    'answers NotFound for %s',
    (path) => {
      expect(() => route(event('POST', path))).toThrow(NotFound);
    },
  );

  it('answers MethodNotAllowed naming the methods the path takes', () => {
    expect(() => route(event('PUT', '/locks/a'))).toThrow(MethodNotAllowed);
    try {
      route(event('GET', '/locks/a/acquire'));
    } catch (err) {
      expect(err).toMatchObject({ name: 'MethodNotAllowed', allow: ['POST'] });
    }
    expect.assertions(2);
  });
});

describe('request decoding', () => {
  it('decodes a URL-encoded lock id and refuses malformed escapes and long ids', () => {
    expect(decodeLockId('orders%2F42')).toBe('orders/42');
    expect(fieldOf(() => decodeLockId('%E0%A4%A'))).toBe('lockId');
    expect(fieldOf(() => decodeLockId('%FF'))).toBe('lockId');
    expect(fieldOf(() => decodeLockId('a'.repeat(1025)))).toBe('lockId');
  });

  it('reads plain and base64 JSON bodies, and none', () => {
    expect(readJsonBody({ body: '{"a":1}', isBase64Encoded: false })).toEqual({ a: 1 });
    const encoded = Buffer.from('{"a":2}').toString('base64');
    expect(readJsonBody({ body: encoded, isBase64Encoded: true })).toEqual({ a: 2 });
    expect(readJsonBody({ body: null, isBase64Encoded: false })).toBeUndefined();
    expect(readJsonBody({ body: '', isBase64Encoded: false })).toBeUndefined();
  });

  it('refuses a body that is not JSON or too large, naming `body`', () => {
    expect(fieldOf(() => readJsonBody({ body: '{', isBase64Encoded: false }))).toBe('body');
    const huge = JSON.stringify({ owner: 'x'.repeat(17_000) });
    expect(fieldOf(() => readJsonBody({ body: huge, isBase64Encoded: false }))).toBe('body');
  });

  it('builds a request with only the operation fields, refusing unknown and missing ones', () => {
    const body = (value: unknown) => ({ body: JSON.stringify(value), isBase64Encoded: false });
    expect(parseHttpRequest('renew', 'a%2Fb', body({ owner: 'o', token: 5 }), 25_000)).toEqual({
      action: 'renew',
      lockId: 'a/b',
      options: { owner: 'o', token: 5 },
    });
    expect(fieldOf(() => parseHttpRequest('renew', 'a', body({ owner: 'o' }), 25_000))).toBe(
      'token',
    );
    expect(
      fieldOf(() => parseHttpRequest('release', 'a', body({ owner: 'o', token: 1, x: 1 }), 1)),
    ).toBe('x');
    expect(
      fieldOf(() => parseHttpRequest('acquire', 'a', { body: null, isBase64Encoded: false }, 1)),
    ).toBe('body');
  });

  it('caps waitMs over HTTP and says why', () => {
    const body = { body: JSON.stringify({ owner: 'o', waitMs: 26_000 }), isBase64Encoded: false };
    expect(() => parseHttpRequest('acquire', 'a', body, 25_000)).toThrow(
      /waitMs must be at most 25000 on the HTTP API, to answer within API Gateway's 29 s timeout/,
    );
  });

  it('ignores a body on GET and DELETE', () => {
    const body = { body: 'not json', isBase64Encoded: false };
    expect(parseHttpRequest('get', 'a', body, 1)).toEqual({
      action: 'get',
      lockId: 'a',
      options: {},
    });
  });
});
