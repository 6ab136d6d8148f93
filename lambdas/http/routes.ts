import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Action } from '../service/lock-requests.js';
import { MethodNotAllowed, RouteNotFound } from './http-errors.js';

/** The API's resources as API Gateway names them, with the action behind each method. */
export const ROUTES = {
  '/locks/{lockId}': { GET: 'get', DELETE: 'forceRelease' },
  '/locks/{lockId}/acquire': { POST: 'acquire' },
  '/locks/{lockId}/renew': { POST: 'renew' },
  '/locks/{lockId}/release': { POST: 'release' },
} as const satisfies Record<string, Record<string, Action>>;

export type Resource = keyof typeof ROUTES;

const isResource = (value: unknown): value is Resource =>
  typeof value === 'string' && Object.hasOwn(ROUTES, value);

// For a catch-all (`/{proxy+}`) integration: the lock id is one raw (still encoded) path segment.
const PATH = /^\/locks\/([^/]+)(\/acquire|\/renew|\/release)?\/?$/;

/**
 * Matches a path to one of {@link ROUTES}: by `resource` when API Gateway routed it to one of
 * ours, else by the raw path. Returns the raw lock id segment, still URL-encoded.
 *
 * @example
 * const { resource, rawLockId } = matchPath('/locks/orders%2F42/acquire');
 */
export function matchPath(path: string): { resource: Resource; rawLockId: string } | undefined {
  const match = PATH.exec(path);
  if (!match) return undefined;
  return { resource: `/locks/{lockId}${match[2] ?? ''}` as Resource, rawLockId: match[1] };
}

/**
 * Finds the action for a proxy event, or throws {@link RouteNotFound} / {@link MethodNotAllowed}.
 *
 * @example
 * const { action, rawLockId } = route(event); // POST /locks/a/acquire -> 'acquire', 'a'
 */
export function route(event: APIGatewayProxyEvent): { action: Action; rawLockId: string } {
  const matched =
    isResource(event.resource) && event.pathParameters?.lockId !== undefined
      ? { resource: event.resource, rawLockId: event.pathParameters.lockId }
      : matchPath(event.path ?? '');
  if (!matched) throw new RouteNotFound(event.path ?? '/');
  const methods: Record<string, Action> = ROUTES[matched.resource];
  const method = (event.httpMethod ?? '').toUpperCase();
  if (!Object.hasOwn(methods, method)) {
    throw new MethodNotAllowed(method, Object.keys(methods));
  }
  return { action: methods[method], rawLockId: matched.rawLockId };
}
