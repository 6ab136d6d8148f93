import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type ApiEvent, toApiRequest } from '../../lambdas/http/events.js';
import { MethodNotAllowed, NotFound } from '../../lambdas/http/http-errors.js';
import { parseHttpRequest, readJsonBody } from '../../lambdas/http/requests.js';
import { route } from '../../lambdas/http/routes.js';
import { type LocalRequest, toHttpApiEvent, toRestEvent } from '../../local/api-events.js';
import { fieldOf } from '../support/errors.js';

const request = (method: string, url: string, body: string | null = null): LocalRequest => ({
  method,
  url,
  rawHeaders: ['Content-Type', 'application/json', 'User-Agent', 'test'],
  body,
  requestId: 'req-1',
});

/** Routes and parses a request as the handler does. */
const parse = (event: ApiEvent) => {
  const http = toApiRequest(event);
  const { action, lockId } = route(http);
  return parseHttpRequest(action, lockId, http, 25_000);
};

/** A hand-made HTTP API event, as much of one as the handler reads. */
const v2 = (fields: Partial<APIGatewayProxyEventV2> & { stage?: string; method: string }) =>
  ({
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    isBase64Encoded: false,
    ...fields,
    requestContext: { stage: fields.stage ?? '$default', http: { method: fields.method } },
  }) as unknown as APIGatewayProxyEventV2;

describe('API Gateway events of both kinds', () => {
  it('reads a REST and an HTTP API event of the same request into the same request', () => {
    const sent = request('POST', '/locks/orders-42/acquire', '{"owner":"w1"}');
    const rest = toApiRequest(toRestEvent(sent));
    const http = toApiRequest(toHttpApiEvent(sent));
    expect(rest).toEqual({ ...http, pathDecoded: false });
    expect(http).toEqual({
      method: 'POST',
      path: '/locks/orders-42/acquire',
      route: { resource: '/locks/{lockId}/acquire', lockId: 'orders-42' },
      pathDecoded: true,
      query: {},
      body: '{"owner":"w1"}',
      isBase64Encoded: false,
      requestId: 'req-1',
    });
    expect(parse(toRestEvent(sent))).toEqual(parse(toHttpApiEvent(sent)));
  });

  it('reads the query of a listing the same from both kinds', () => {
    const sent = request('GET', `/locks?prefix=${encodeURIComponent('a b/🔒')}&limit=5`);
    const rest = toApiRequest(toRestEvent(sent));
    const http = toApiRequest(toHttpApiEvent(sent));
    expect(rest.query).toEqual({ prefix: 'a b/🔒', limit: '5' });
    expect(http.query).toEqual(rest.query);
  });

  it('decodes a REST lock id once, and takes an HTTP API one as API Gateway decoded it', () => {
    const url = `/locks/${encodeURIComponent('café crème 🔒')}`;
    expect(parse(toRestEvent(request('GET', url))).lockId).toBe('café crème 🔒');
    const event = toHttpApiEvent(request('GET', url));
    expect(event.pathParameters).toEqual({ lockId: 'café crème 🔒' });
    expect(parse(event).lockId).toBe('café crème 🔒');
  });

  it('refuses a "%" left in an HTTP API lock id, naming lockId', () => {
    const event = v2({
      method: 'GET',
      routeKey: 'GET /locks/{lockId}',
      rawPath: '/locks/50%off',
      pathParameters: { lockId: '50%off' },
    });
    expect(fieldOf(() => parse(event))).toBe('lockId');
  });

  it('strips a named stage from rawPath on the $default route (404 and 405 as on REST)', () => {
    const put = v2({ method: 'PUT', stage: 'prod', rawPath: '/prod/locks/a/acquire' });
    expect(toApiRequest(put).path).toBe('/locks/a/acquire');
    expect(() => route(toApiRequest(put))).toThrow(MethodNotAllowed);
    const unknown = v2({ method: 'GET', stage: 'prod', rawPath: '/prod/nope' });
    expect(() => route(toApiRequest(unknown))).toThrow(new NotFound('/nope'));
  });

  it('reads a base64-encoded HTTP API body', () => {
    const event = toHttpApiEvent({
      ...request('POST', '/locks/a/acquire', '{"owner":"w1"}'),
      rawHeaders: ['content-type', 'application/octet-stream'],
    });
    expect(event.isBase64Encoded).toBe(true);
    expect(readJsonBody(toApiRequest(event))).toEqual({ owner: 'w1' });
  });
});

describe('the local HTTP API event', () => {
  it('routes on the decoded path, as API Gateway does: %2F splits the lock id', () => {
    const event = toHttpApiEvent(request('POST', '/locks/a%2Fb/acquire', '{}'));
    expect(event).toMatchObject({ routeKey: '$default', rawPath: '/locks/a/b/acquire' });
    expect(event.pathParameters).toBeUndefined();
    expect(() => route(toApiRequest(event))).toThrow(NotFound);
  });

  it('sends methods no route takes to $default, where the handler answers 405', () => {
    const event = toHttpApiEvent(request('PUT', '/locks/a/acquire'));
    expect(event.routeKey).toBe('$default');
    expect(() => route(toApiRequest(event))).toThrow(MethodNotAllowed);
  });

  it('lower-cases header names and joins repeated ones, as payload format 2.0 does', () => {
    const event = toHttpApiEvent({
      ...request('GET', '/locks/a?x=1&x=2'),
      rawHeaders: ['X-Thing', 'one', 'x-thing', 'two', 'Cookie', 'a=1; b=2'],
    });
    expect(event.headers).toEqual({ 'x-thing': 'one,two' });
    expect(event.cookies).toEqual(['a=1', 'b=2']);
    expect(event).toMatchObject({ rawQueryString: 'x=1&x=2', queryStringParameters: { x: '1,2' } });
  });
});
