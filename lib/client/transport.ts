import {
  LockError,
  LockHeld,
  LockLost,
  ValidationError,
  FencedOut,
  type AcquireOptions,
  type Grant,
  type LockState,
  type ReleaseOptions,
  type RenewOptions,
} from '../core/index.js';

/**
 * The operations every transport offers; `LockManager` (direct DynamoDB) already has this shape.
 *
 * @example
 * const transport: LockTransport = new LockManager({ tableName: 'locks' });
 */
export interface LockTransport {
  acquire(lockId: string, options: AcquireOptions): Promise<Grant>;
  renew(lockId: string, options: RenewOptions): Promise<Grant>;
  release(lockId: string, options: ReleaseOptions): Promise<{ released: boolean }>;
  get(lockId: string): Promise<LockState>;
  forceRelease(lockId: string): Promise<{ released: boolean }>;
}

/**
 * The fields an acquire request carries. Callers often pass a whole grant or options object;
 * the service refuses unknown fields, so only the request's own are sent.
 *
 * @example acquireFields({ owner: 'me', leaseMs: 5000 })
 */
export const acquireFields = ({ owner, leaseMs, waitMs, data }: AcquireOptions) => ({
  owner,
  leaseMs,
  waitMs,
  data,
});

/** @example renewFields(grant) */
export const renewFields = ({ owner, token, leaseMs }: RenewOptions) => ({ owner, token, leaseMs });

/**
 * The service failed in a way that is not a lock outcome (a 5xx, a Lambda runtime fault).
 *
 * @example
 * catch (err) { if (err instanceof LockServiceError) console.log(err.statusCode); }
 */
export class LockServiceError extends LockError {
  constructor(
    message: string,
    /** HTTP status, or 500 for a Lambda function error. */
    readonly statusCode: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'LockServiceError';
  }
}

/** What a remote refusal says: the HTTP error body, or a Lambda error's type and message. */
export interface RemoteError {
  error?: unknown;
  message?: unknown;
  field?: unknown;
  owner?: unknown;
  expiresAt?: unknown;
  retryAfterMs?: unknown;
  token?: unknown;
  acceptedToken?: unknown;
}

const asNumber = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/**
 * Turns a remote error back into the typed error the library would have thrown, so callers see
 * the same classes whichever transport they use. Fields a Lambda error cannot carry (it keeps
 * only a type and a message) are recovered from the library's own message text.
 *
 * @example
 * throw decodeRemoteError('orders/42', { error: 'LockLost', message: 'lost' }, 409);
 */
export function decodeRemoteError(lockId: string, body: RemoteError, statusCode: number): Error {
  const message =
    typeof body.message === 'string' ? body.message : `lock service error ${statusCode}`;
  switch (body.error) {
    case 'LockHeld': {
      const parsed = /is held by "(.*)" for another (\d+) ms$/s.exec(message);
      const owner = typeof body.owner === 'string' ? body.owner : (parsed?.[1] ?? 'unknown');
      const retryAfterMs = asNumber(body.retryAfterMs) ?? Number(parsed?.[2] ?? 0);
      const expiresAt = asNumber(body.expiresAt) ?? Date.now() + retryAfterMs;
      return new LockHeld(lockId, { owner, expiresAt, retryAfterMs });
    }
    case 'LockLost':
      return new LockLost(lockId, message);
    case 'ValidationError': {
      const field =
        typeof body.field === 'string' ? body.field : (/^(\w+)\b/.exec(message)?.[1] ?? 'body');
      return new ValidationError(field, message);
    }
    case 'FencedOut':
      return new FencedOut(
        asNumber(body.token) ?? Number.NaN,
        asNumber(body.acceptedToken) ?? Number.NaN,
      );
    default:
      return new LockServiceError(message, statusCode);
  }
}
