import { ValidationError } from './errors.js';
import { LIMITS } from './limits.js';

/** A JSON object kept with a grant. */
export type LockData = { [key: string]: unknown };

/** Bytes of `value` in UTF-8, what DynamoDB and the limits count. */
export const utf8Length = (value: string): number => Buffer.byteLength(value, 'utf8');

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Checks a string field: present, non-empty, well-formed Unicode and within a byte limit.
 *
 * @example
 * const id = parseName('lockId', input, LIMITS.lockIdMaxBytes);
 */
export function parseName(field: string, value: unknown, maxBytes: number): string {
  if (typeof value !== 'string') {
    throw new ValidationError(field, `${field} must be a string, got ${describe(value)}`);
  }
  if (value.length === 0) throw new ValidationError(field, `${field} must not be empty`);
  // A lone surrogate cannot be stored as UTF-8 and would be silently replaced.
  if (!value.isWellFormed()) {
    throw new ValidationError(field, `${field} must be well-formed Unicode`);
  }
  const bytes = utf8Length(value);
  if (bytes > maxBytes) {
    throw new ValidationError(
      field,
      `${field} must be at most ${maxBytes} bytes of UTF-8, got ${bytes}`,
    );
  }
  return value;
}

/**
 * Checks an integer field against an inclusive range.
 *
 * @example
 * const leaseMs = parseInteger('leaseMs', 5000, 1000, 43_200_000);
 */
export function parseInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ValidationError(field, `${field} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new ValidationError(field, `${field} must be from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/**
 * Lock ids starting with U+0000 are the service's own: it keeps its owner registry under them
 * (see `owner-registry.ts`), in the same table.
 */
export const RESERVED_LOCK_ID_PREFIX = '\u0000';

/** @example parseLockId('orders/42') */
export function parseLockId(value: unknown): string {
  const lockId = parseName('lockId', value, LIMITS.lockIdMaxBytes);
  if (lockId.startsWith(RESERVED_LOCK_ID_PREFIX)) {
    throw new ValidationError('lockId', 'lockId must not start with U+0000 (reserved)');
  }
  return lockId;
}

/** @example parseOwner('worker-1') */
export const parseOwner = (value: unknown): string =>
  parseName('owner', value, LIMITS.ownerMaxBytes);

/** @example parseToken(1764130000001) */
export const parseToken = (value: unknown): number =>
  parseInteger('token', value, 1, Number.MAX_SAFE_INTEGER);

/**
 * A lease in ms, or `fallback` when absent; `field` names the option in the error
 * (`defaultLeaseMs` when it is a manager's default).
 *
 * @example parseLeaseMs(undefined, 30_000) === 30_000
 */
export const parseLeaseMs = (value: unknown, fallback: number, field = 'leaseMs'): number =>
  value === undefined ? fallback : parseInteger(field, value, LIMITS.leaseMsMin, LIMITS.leaseMsMax);

/** @example parsePermits(5) === 5 */
export const parsePermits = (value: unknown): number =>
  parseInteger('permits', value, 1, LIMITS.permitsMax);

/** @example parseFlag('trackOwner', true) === true */
export function parseFlag(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new ValidationError(field, `${field} must be true or false, got ${describe(value)}`);
  }
  return value;
}

/** @example parseWaitMs(undefined) === 0 */
export const parseWaitMs = (value: unknown, max: number = LIMITS.waitMsMax): number =>
  value === undefined ? 0 : parseInteger('waitMs', value, 0, max);

/**
 * Checks grant data: a plain JSON object of at most 4 KB serialized.
 *
 * @example parseData({ job: 'nightly' })
 */
export function parseData(value: unknown): LockData | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('data', `data must be a JSON object, got ${describe(value)}`);
  }
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    throw new ValidationError('data', 'data must be serializable as JSON', { cause });
  }
  const bytes = utf8Length(json);
  if (bytes > LIMITS.dataMaxBytes) {
    throw new ValidationError(
      'data',
      `data must serialize to at most ${LIMITS.dataMaxBytes} bytes, got ${bytes}`,
    );
  }
  // Round-trip so what is stored is exactly what a reader will get back.
  return JSON.parse(json) as LockData;
}

/**
 * Checks that an input is a plain object whose keys are all known, so a
 * misspelt field (`leaseMS`) is refused instead of silently ignored.
 *
 * @example
 * const input = parseObject(body, ['owner', 'leaseMs']);
 */
export function parseObject(
  value: unknown,
  allowed: readonly string[],
  field = 'body',
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, `${field} must be a JSON object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new ValidationError(
        key,
        `unknown field "${key}"; expected only ${allowed.map((k) => `"${k}"`).join(', ')}`,
      );
    }
  }
  return value as Record<string, unknown>;
}
