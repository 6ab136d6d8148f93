import { LIST, type ListOptions, type ListResult } from '../contract/list.js';
import { LockError, LockServiceUnavailable } from '../core/errors.js';
import {
  type InputOf,
  type NoInput,
  type OperationName,
  type OutputOf,
  requestFields,
} from '../contract/operations.js';

/**
 * The operations every transport offers, one method per operation of the contract;
 * `LockManager` (direct DynamoDB) already has this shape.
 *
 * @example
 * const transport: LockTransport = new LockManager({ tableName: 'locks' });
 */
export type LockTransport = {
  [O in OperationName]: (
    lockId: string,
    ...input: NoInput extends InputOf<O> ? [input?: InputOf<O>] : [input: InputOf<O>]
  ) => Promise<OutputOf<O>>;
} & {
  /** One page of the table's locks (see `LockManager.list`). */
  list(options?: ListOptions): Promise<ListResult>;
};

/**
 * A transport to the deployed service (HTTP API or Lambda): each operation becomes one
 * request carrying only that operation's contract fields; a subclass says how to send it.
 */
export abstract class RemoteTransport implements LockTransport {
  /**
   * Sends one operation and returns its answer, or throws the decoded lock outcome, or a
   * `LockServiceUnavailable` (with the underlying error as `cause`) for any fault.
   */
  protected abstract send<O extends OperationName>(
    operation: O,
    lockId: string,
    fields: Record<string, unknown>,
  ): Promise<OutputOf<O>>;

  acquire(lockId: string, options: InputOf<'acquire'>): Promise<OutputOf<'acquire'>> {
    return this.call('acquire', lockId, options);
  }

  renew(lockId: string, options: InputOf<'renew'>): Promise<OutputOf<'renew'>> {
    return this.call('renew', lockId, options);
  }

  release(lockId: string, options: InputOf<'release'>): Promise<OutputOf<'release'>> {
    return this.call('release', lockId, options);
  }

  get(lockId: string): Promise<OutputOf<'get'>> {
    return this.call('get', lockId, {});
  }

  forceRelease(lockId: string): Promise<OutputOf<'forceRelease'>> {
    return this.call('forceRelease', lockId, {});
  }

  list(options: ListOptions = {}): Promise<ListResult> {
    const fields = Object.fromEntries(
      LIST.fields
        .filter((name) => options[name] !== undefined)
        .map((name) => [name, options[name]]),
    );
    return this.sendList(fields);
  }

  /** Sends a listing's fields (only the contract's), as {@link send} does an operation. */
  protected abstract sendList(fields: ListOptions): Promise<ListResult>;

  private call<O extends OperationName>(
    operation: O,
    lockId: string,
    input: object,
  ): Promise<OutputOf<O>> {
    return this.send(operation, lockId, requestFields(operation, input));
  }
}

/**
 * How long the deployed service may take to answer one request beyond the wait it was asked
 * for, in ms: a cold start plus the service's own DynamoDB timeout (3 s), with room to spare,
 * and under API Gateway's 29 s. A transport's `requestTimeoutMs` replaces it.
 */
export const SERVICE_TIMEOUT_MS_DEFAULT = 10_000;

/**
 * The timeout of one request to the service: `timeoutMs` plus the `waitMs` it asks the
 * service to wait, so a waiting acquire is not cut short.
 *
 * @example const ms = serviceRequestTimeout(10_000, { owner: 'me', waitMs: 5_000 }); // 15,000
 */
export const serviceRequestTimeout = (timeoutMs: number, fields: Record<string, unknown>) =>
  timeoutMs + (typeof fields.waitMs === 'number' && fields.waitMs > 0 ? fields.waitMs : 0);

/**
 * Runs a request to the service; a failure that is neither a lock outcome nor already a fault
 * (a refused connection, a timeout, an SDK error) becomes a {@link LockServiceUnavailable}.
 *
 * @example const response = await reaching('the lock API', () => fetch(url));
 */
export async function reaching<T>(what: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof LockError || err instanceof LockServiceUnavailable) throw err;
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new LockServiceUnavailable(`could not reach ${what} (${reason})`, { cause: err });
  }
}
