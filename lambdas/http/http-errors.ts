import type { APIGatewayProxyResult } from 'aws-lambda';
import { LockError, LockHeld, LockLost, ValidationError } from '../../lib/core/index.js';

/** No route matches the request's path. */
export class RouteNotFound extends Error {
  constructor(readonly path: string) {
    super(`no route for ${path}; see the API table in the README`);
    this.name = 'RouteNotFound';
  }
}

/** The path exists but not with this method. */
export class MethodNotAllowed extends Error {
  constructor(
    readonly method: string,
    /** The methods the path does accept. */
    readonly allow: readonly string[],
  ) {
    super(`method ${method} is not allowed here; use ${allow.join(' or ')}`);
    this.name = 'MethodNotAllowed';
  }
}

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

/**
 * A JSON response.
 *
 * @example
 * return jsonResponse(200, grant);
 */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** @example jsonResponse(200, result) === ok(result) */
export const ok = (body: unknown): APIGatewayProxyResult => jsonResponse(200, body);

/**
 * True for the errors that are the caller's doing (answered 4xx); anything else is a fault.
 *
 * @example
 * if (!isClientError(err)) service.recordFault(err);
 */
export const isClientError = (err: unknown): boolean =>
  err instanceof LockError || err instanceof RouteNotFound || err instanceof MethodNotAllowed;

/**
 * Maps an error to its HTTP answer by type: the only place that knows status codes for errors.
 * A fault gets a generic 500 naming only the request id: no stack, no SDK text, no table name.
 *
 * @example
 * catch (err) { return errorResponse(err, event.requestContext.requestId); }
 */
export function errorResponse(err: unknown, requestId: string): APIGatewayProxyResult {
  if (err instanceof ValidationError) {
    return jsonResponse(400, { error: err.name, message: err.message, field: err.field });
  }
  if (err instanceof LockHeld) {
    const { owner, expiresAt, retryAfterMs } = err;
    return jsonResponse(
      409,
      { error: err.name, message: err.message, owner, expiresAt, retryAfterMs },
      { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
    );
  }
  if (err instanceof LockLost) {
    return jsonResponse(409, { error: err.name, message: err.message });
  }
  if (err instanceof RouteNotFound) {
    return jsonResponse(404, { error: 'NotFound', message: err.message });
  }
  if (err instanceof MethodNotAllowed) {
    return jsonResponse(
      405,
      { error: 'MethodNotAllowed', message: err.message },
      { allow: err.allow.join(', ') },
    );
  }
  return jsonResponse(500, {
    error: 'InternalError',
    message: `internal error; the service logs have the details under request id ${requestId}`,
  });
}
