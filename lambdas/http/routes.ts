import { matchPath, ROUTES } from '../../lib/contract/http.js';
import type { OperationName } from '../../lib/contract/operations.js';
import type { ApiRequest } from './events.js';
import { MethodNotAllowed, NotFound } from './http-errors.js';

/**
 * Finds the operation for a request, or throws {@link NotFound} / {@link MethodNotAllowed}: by
 * the route API Gateway matched when it matched one of the contract's, else by the path (a
 * catch-all `/{proxy+}` or `$default` route). The lock id segment is returned as the request
 * spells it (see `ApiRequest.pathDecoded`).
 *
 * @example
 * const { action, lockId } = route(toApiRequest(event)); // POST /locks/a/acquire -> 'acquire', 'a'
 */
export function route(request: Pick<ApiRequest, 'method' | 'path' | 'route'>): {
  action: OperationName;
  lockId: string;
} {
  const matched = request.route ?? toRoute(matchPath(request.path));
  if (!matched) throw new NotFound(request.path || '/');
  const methods = ROUTES[matched.resource];
  const method = request.method.toUpperCase();
  if (!Object.hasOwn(methods, method)) {
    throw new MethodNotAllowed(method, Object.keys(methods));
  }
  return { action: methods[method], lockId: matched.lockId };
}

const toRoute = (match: ReturnType<typeof matchPath>) =>
  match && { resource: match.resource, lockId: match.rawLockId };
