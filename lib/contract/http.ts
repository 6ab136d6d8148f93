// The HTTP form of the contract: limits of the API Gateway edge and the routes of OPERATIONS.
import { OPERATION_NAMES, OPERATIONS, type OperationName } from './operations.js';

/** API Gateway ends a Lambda integration after 29 s: a request that takes longer gets a 504. */
export const API_GATEWAY_TIMEOUT_MS = 29_000;

/** Longest `waitMs` the HTTP API accepts unless configured (`MAX_HTTP_WAIT_MS`). */
export const MAX_HTTP_WAIT_MS_DEFAULT = 25_000;

/** The HTTP wait cap can never reach the integration timeout: the answer needs time too. */
export const MAX_HTTP_WAIT_CEILING_MS = API_GATEWAY_TIMEOUT_MS - 1_000;

/**
 * The API Gateway API kinds that can front the handler: `rest` (REST API, proxy events v1) and
 * `http` (HTTP API, payload format 2.0). Same routes, bodies and status codes on both.
 *
 * @example API_KINDS.includes('http') // true
 */
export const API_KINDS = ['rest', 'http'] as const;
export type ApiKind = (typeof API_KINDS)[number];

/** Largest body accepted: ample for a 4 KB `data` object even when fully `\u`-escaped. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Each route (as API Gateway names the resource) with the operation behind each method. */
export const ROUTES: Readonly<Record<string, Readonly<Record<string, OperationName>>>> =
  OPERATION_NAMES.reduce<Record<string, Record<string, OperationName>>>((routes, name) => {
    const { path, method } = OPERATIONS[name];
    (routes[path] ??= {})[method] = name;
    return routes;
  }, {});

const LOCK_ID = '{lockId}';

/**
 * The URL path of an operation on a lock, the lock id URL-encoded as one segment.
 *
 * @example pathFor('acquire', 'orders/42') === '/locks/orders%2F42/acquire'
 */
export const pathFor = (operation: OperationName, lockId: string): string =>
  OPERATIONS[operation].path.replace(LOCK_ID, encodeURIComponent(lockId));

// One pattern per route: the lock id is one raw (still encoded) path segment; a trailing slash
// is tolerated.
const PATTERNS = Object.keys(ROUTES).map((resource) => {
  const [before, after] = resource
    .split(LOCK_ID)
    .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
  return { resource, pattern: new RegExp(`^${before}([^/]+)${after}/?$`) };
});

/**
 * Matches a raw URL path to one of {@link ROUTES}. Returns the raw lock id segment, still
 * URL-encoded, or undefined for a path that is no route.
 *
 * @example matchPath('/locks/orders%2F42/acquire') // { resource: '/locks/{lockId}/acquire', rawLockId: 'orders%2F42' }
 */
export function matchPath(path: string): { resource: string; rawLockId: string } | undefined {
  for (const { resource, pattern } of PATTERNS) {
    const match = pattern.exec(path);
    if (match) return { resource, rawLockId: match[1] };
  }
  return undefined;
}

/** @example isResource('/locks/{lockId}') === true */
export const isResource = (value: unknown): value is string =>
  typeof value === 'string' && Object.hasOwn(ROUTES, value);
