import { API_GATEWAY_TIMEOUT_MS, MAX_BODY_BYTES } from '../../lib/contract/http.js';
import {
  fieldNames,
  type LockRequest,
  type OperationName,
  parseLockRequest,
} from '../../lib/contract/operations.js';
import { ValidationError } from '../../lib/core/index.js';
import { parseLockId, parseObject } from '../../lib/core/validation.js';
import type { ApiRequest } from './events.js';

/**
 * Decodes the lock id from its URL-encoded path segment and checks it.
 *
 * @example decodeLockId('orders%2F42') === 'orders/42'
 */
export function decodeLockId(raw: string): string {
  let lockId: string;
  try {
    lockId = decodeURIComponent(raw);
  } catch (cause) {
    // A stray `%`, or percent-escapes that are not UTF-8.
    throw new ValidationError(
      'lockId',
      'lockId must be URL-encoded UTF-8 (encodeURIComponent) in the path',
      { cause },
    );
  }
  return parseLockId(lockId);
}

/**
 * Checks a lock id that API Gateway has already decoded (HTTP API). A `%` left in it cannot be
 * trusted: it is either an escape API Gateway could not decode or one more layer of encoding,
 * and decoding again could name a different lock than the caller meant, so it is refused.
 *
 * @example checkDecodedLockId('orders-42') === 'orders-42'
 */
export function checkDecodedLockId(lockId: string): string {
  if (lockId.includes('%')) {
    throw new ValidationError(
      'lockId',
      'lockId must not contain "%" on the HTTP API, which decodes the path before the lock ' +
        'service sees it (use the REST API for such ids); see docs/http-api-v2.md',
    );
  }
  return parseLockId(lockId);
}

/**
 * Reads a JSON body, refusing one that is too large or not JSON with field `body`.
 * Returns undefined for no body.
 *
 * @example const body = readJsonBody(event);
 */
export function readJsonBody(event: { body?: string | null; isBase64Encoded?: boolean }): unknown {
  if (event.body === null || event.body === undefined || event.body === '') return undefined;
  const text = event.isBase64Encoded
    ? Buffer.from(event.body, 'base64').toString('utf8')
    : event.body;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_BODY_BYTES) {
    throw new ValidationError('body', `body must be at most ${MAX_BODY_BYTES} bytes, got ${bytes}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ValidationError('body', 'body must be valid JSON', { cause });
  }
}

/**
 * Turns a routed request into a checked one: the lock id from its path segment (decoded here
 * unless API Gateway already did, see `ApiRequest.pathDecoded`), the fields from the JSON body
 * (unknown fields refused by name), `waitMs` capped for API Gateway.
 *
 * @example
 * const request = parseHttpRequest('acquire', 'orders%2F42', apiRequest, 25_000);
 */
export function parseHttpRequest(
  action: OperationName,
  lockIdSegment: string,
  request: Pick<ApiRequest, 'body' | 'isBase64Encoded'> & { pathDecoded?: boolean },
  maxWaitMs: number,
): LockRequest {
  const lockId = request.pathDecoded
    ? checkDecodedLockId(lockIdSegment)
    : decodeLockId(lockIdSegment);
  const fields = fieldNames(action);
  // GET and DELETE take no body; one sent anyway is ignored, as most HTTP servers do.
  let input: Record<string, unknown> = {};
  if (fields.length > 0) {
    const body = readJsonBody(request);
    if (body === undefined) {
      throw new ValidationError(
        'body',
        `body is required: a JSON object with ${fields.map((f) => `"${f}"`).join(', ')}`,
      );
    }
    input = parseObject(body, fields);
  }
  return parseLockRequest(action, lockId, input, {
    maxWaitMs,
    maxWaitReason: `on the HTTP API, to answer within API Gateway's ${API_GATEWAY_TIMEOUT_MS / 1000} s timeout (invoke the function directly to wait longer)`,
  });
}
