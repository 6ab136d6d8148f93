import type { APIGatewayProxyEvent } from 'aws-lambda';
import { isResource, matchPath, ROUTES } from '../../lib/contract/http.js';
import type { OperationName } from '../../lib/contract/operations.js';
import { MethodNotAllowed, NotFound } from './http-errors.js';

/**
 * Finds the operation for a proxy event, or throws {@link NotFound} / {@link MethodNotAllowed}:
 * by `resource` when API Gateway routed it to one of the contract's routes, else by the raw path
 * (a catch-all `/{proxy+}` integration).
 *
 * @example
 * const { action, rawLockId } = route(event); // POST /locks/a/acquire -> 'acquire', 'a'
 */
export function route(
  event: Pick<APIGatewayProxyEvent, 'resource' | 'path' | 'pathParameters' | 'httpMethod'>,
): { action: OperationName; rawLockId: string } {
  const matched =
    isResource(event.resource) && event.pathParameters?.lockId !== undefined
      ? { resource: event.resource, rawLockId: event.pathParameters.lockId }
      : matchPath(event.path ?? '');
  if (!matched) throw new NotFound(event.path ?? '/');
  const methods = ROUTES[matched.resource];
  const method = (event.httpMethod ?? '').toUpperCase();
  if (!Object.hasOwn(methods, method)) {
    throw new MethodNotAllowed(method, Object.keys(methods));
  }
  return { action: methods[method], rawLockId: matched.rawLockId };
}
