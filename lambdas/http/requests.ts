import type { APIGatewayProxyEvent } from 'aws-lambda';
import { API_GATEWAY_TIMEOUT_MS, MAX_BODY_BYTES } from '../../lib/contract/http.js';
import {
  fieldNames,
  type LockRequest,
  type OperationName,
  parseLockRequest,
} from '../../lib/contract/operations.js';
import { ValidationError } from '../../lib/core/index.js';
import { parseLockId, parseObject } from '../../lib/core/validation.js';

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
 * Reads a JSON body, refusing one that is too large or not JSON with field `body`.
 * Returns undefined for no body.
 *
 * @example const body = readJsonBody(event);
 */
export function readJsonBody(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
): unknown {
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
 * Turns a routed proxy event into a checked request: the lock id from the path, the fields
 * from the JSON body (unknown fields refused by name), `waitMs` capped for API Gateway.
 *
 * @example
 * const request = parseHttpRequest('acquire', 'orders%2F42', event, 25_000);
 */
export function parseHttpRequest(
  action: OperationName,
  rawLockId: string,
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
  maxWaitMs: number,
): LockRequest {
  const lockId = decodeLockId(rawLockId);
  const fields = fieldNames(action);
  // GET and DELETE take no body; one sent anyway is ignored, as most HTTP servers do.
  let input: Record<string, unknown> = {};
  if (fields.length > 0) {
    const body = readJsonBody(event);
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
