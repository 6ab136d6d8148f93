// Local adapter: one plain HTTP request -> the proxy event API Gateway would send for it, as a
// REST API (v1) or as an HTTP API (payload format 2.0). The local server and the bench feed
// these to the very same handler code the Lambda runs.
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { type ApiKind, matchPath, ROUTES } from '../lib/contract/http.js';
import { LIST } from '../lib/contract/list.js';

/** An HTTP request as it arrived, before API Gateway would have touched it. */
export interface LocalRequest {
  method: string;
  /** The request target as sent: path (percent-encoded) and query, e.g. `/locks/a%2Fb?x=1`. */
  url: string;
  /** Header names and values in arrival order, names as the client spelt them (Node's `rawHeaders`). */
  rawHeaders: readonly string[];
  body: string | null;
  requestId: string;
  /** @default '127.0.0.1' */
  sourceIp?: string;
  /** @default '1.1' */
  httpVersion?: string;
}

/** The event of either kind. */
export type LocalApiEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/**
 * The proxy event the given kind of API would send for a request.
 *
 * @example
 * const event = toApiEvent('http', { method: 'GET', url: '/locks/a', rawHeaders: [], body: null, requestId: 'r1' });
 */
export function toApiEvent(kind: ApiKind, request: LocalRequest): LocalApiEvent {
  return kind === 'http' ? toHttpApiEvent(request) : toRestEvent(request);
}

function splitUrl(url: string): { path: string; query: string } {
  const queryAt = url.indexOf('?');
  return queryAt === -1
    ? { path: url, query: '' }
    : { path: url.slice(0, queryAt), query: url.slice(queryAt + 1) };
}

/**
 * The REST API (v1) proxy event: path and path parameters still percent-encoded, as API Gateway
 * hands them over; header names as the client spelt them, with multi-value copies.
 *
 * @example const event = toRestEvent(request);
 */
export function toRestEvent(request: LocalRequest): APIGatewayProxyEvent {
  const { path, query } = splitUrl(request.url);
  const matched = matchPath(path);
  const resource = matched?.resource ?? '/{proxy+}';
  const pathParameters = matched
    ? { lockId: matched.rawLockId }
    : { proxy: path.replace(/^\//, '') };
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  forEachHeader(request.rawHeaders, (name, value) => {
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  });
  // Maps, then own properties (as the Lambda runtime's JSON.parse gives), whatever the names.
  const singles = new Map<string, string>();
  const multis = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(query)) {
    singles.set(name, value);
    multis.set(name, [...(multis.get(name) ?? []), value]);
  }
  const single: Record<string, string> = Object.fromEntries(singles);
  const multi: Record<string, string[]> = Object.fromEntries(multis);
  const sourceIp = request.sourceIp ?? '127.0.0.1';
  return {
    resource,
    path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: query === '' ? null : single,
    multiValueQueryStringParameters: query === '' ? null : multi,
    pathParameters,
    stageVariables: null,
    body: request.body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      protocol: `HTTP/${request.httpVersion ?? '1.1'}`,
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: headerValue(request.rawHeaders, 'user-agent') ?? null,
        userArn: null,
      },
      path: `/local${path}`,
      stage: 'local',
      requestId: request.requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
    },
  };
}

/**
 * The HTTP API (payload format 2.0) event for an API with the contract's routes and a
 * `$default` route, served on the `$default` stage. As API Gateway documents and does (see
 * `lambdas/http/events.ts`): the path is percent-decoded before routes are matched, so
 * `rawPath` and `pathParameters` arrive decoded and a `%2F` splits a segment; header names are
 * lower-cased and repeated headers joined with commas.
 *
 * Assumed where AWS does not say: an escape that does not decode to UTF-8 is left as it is,
 * and a body whose content type is not textual is base64-encoded (so the handler's base64 path
 * runs locally too).
 *
 * @example const event = toHttpApiEvent(request);
 */
export function toHttpApiEvent(request: LocalRequest): APIGatewayProxyEventV2 {
  const { path, query } = splitUrl(request.url);
  const rawPath = decodePath(path);
  const matched = matchPath(rawPath);
  const method = request.method.toUpperCase();
  const routed = matched && Object.hasOwn(ROUTES[matched.resource], method) ? matched : undefined;
  // The listing's route, as the stack declares it (an exact path: no trailing slash).
  const listing = method === LIST.method && rawPath === LIST.path;
  const routeKey = routed
    ? `${method} ${routed.resource}`
    : listing
      ? `${LIST.method} ${LIST.path}`
      : '$default';
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  forEachHeader(request.rawHeaders, (name, value) => {
    const key = name.toLowerCase();
    if (key === 'cookie') cookies.push(...value.split(/;\s*/));
    else headers[key] = headers[key] === undefined ? value : `${headers[key]},${value}`;
  });
  const joined = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(query)) {
    const before = joined.get(name);
    joined.set(name, before === undefined ? value : `${before},${value}`);
  }
  const queryStringParameters: Record<string, string> = Object.fromEntries(joined);
  const binary = request.body !== null && !isTextual(headers['content-type']);
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: query,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query === '' ? {} : { queryStringParameters }),
    ...(routed ? { pathParameters: { lockId: routed.rawLockId } } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion ?? '1.1'}`,
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: request.requestId,
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(request.body === null
      ? {}
      : { body: binary ? Buffer.from(request.body, 'utf8').toString('base64') : request.body }),
    isBase64Encoded: binary,
  };
}

/** Decodes each run of percent-escapes that is valid UTF-8; leaves any other run as it is. */
function decodePath(path: string): string {
  return path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

const TEXTUAL =
  /^(?:text\/|application\/(?:json|[\w.+-]*\+json|xml|[\w.+-]*\+xml|javascript|x-www-form-urlencoded))/i;
const isTextual = (contentType: string | undefined) =>
  contentType !== undefined && TEXTUAL.test(contentType.trim());

function forEachHeader(raw: readonly string[], fn: (name: string, value: string) => void) {
  for (let i = 0; i + 1 < raw.length; i += 2) fn(raw[i]!, raw[i + 1]!);
}

function headerValue(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}
