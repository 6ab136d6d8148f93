import type { APIGatewayProxyResult } from 'aws-lambda';
import { encodeError } from '../../lib/contract/error-codec.js';
import {
  AccessDenied,
  FencedOut,
  LockError,
  LockHeld,
  LockLost,
  ValidationError,
} from '../../lib/core/index.js';
import { InternalError } from '../service/internal-error.js';

/** No route matches the request's path. */
export class NotFound extends Error {
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(`no route for ${path}; see the API table in docs/api.md`, options);
    this.name = 'NotFound';
  }
}

/** The path exists but not with this method. */
export class MethodNotAllowed extends Error {
  constructor(
    readonly method: string,
    /** The methods the path does accept. */
    readonly allow: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`method ${method} is not allowed here; use ${allow.join(' or ')}`, options);
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
  err instanceof LockError || err instanceof NotFound || err instanceof MethodNotAllowed;

/** The status of each answer the caller caused; the only place that knows status codes. */
function statusOf(err: Error): number {
  if (err instanceof ValidationError) return 400;
  if (err instanceof AccessDenied) return 403;
  if (err instanceof NotFound) return 404;
  if (err instanceof MethodNotAllowed) return 405;
  if (err instanceof LockHeld || err instanceof LockLost || err instanceof FencedOut) return 409;
  return 500;
}

/**
 * Maps an error to its HTTP answer: the status by type, the body by the error codec. A fault
 * gets a generic 500 naming only the request id: no stack, no SDK text, no table name.
 *
 * @example
 * catch (err) { return errorResponse(err, event.requestContext.requestId); }
 */
export function errorResponse(err: unknown, requestId: string): APIGatewayProxyResult {
  const answered = isClientError(err) ? (err as Error) : new InternalError(requestId);
  const headers: Record<string, string> = {};
  if (err instanceof LockHeld) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
  }
  if (err instanceof MethodNotAllowed) headers.allow = err.allow.join(', ');
  return jsonResponse(statusOf(answered), encodeError(answered), headers);
}
