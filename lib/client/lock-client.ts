import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BACKOFF_DEFAULTS, backoffDelay } from '../core/backoff.js';
import { createDocumentClient } from '../core/dynamodb-client.js';
import {
  fencedRead,
  fencedWrite,
  LIMITS,
  type FencedTarget,
  type FencedWriteInput,
  LockHeld,
  LockManager,
  ValidationError,
  type AcquireOptions,
  type Grant,
  type ListOptions,
  type ListResult,
  type LockData,
  type LockManagerOptions,
  type LockState,
  type ReleaseOptions,
  type ReleaseResult,
  type RenewOptions,
} from '../core/index.js';
import { parseRequestTimeoutMs, withRequestTimeout } from '../core/request-timeout.js';
import { parseLeaseMs, parseWaitMs } from '../core/validation.js';
import { WAITING } from '../core/waiting.js';
import { HttpTransport, type HttpTransportOptions } from './http-transport.js';
import { LambdaTransport, type LambdaTransportOptions } from './lambda-transport.js';
import { LeaseKeeper } from './lease-keeper.js';
import { timedAcquire } from './timed-acquire.js';
import type { LockTransport } from './transport.js';

/** Options every transport shares. */
export interface ResourceOptions {
  /**
   * The client for fenced reads and writes of your own items (the protected resources).
   * @default the lock table's client with the `dynamodb` transport, else a DocumentClient over
   * the default AWS configuration, made on first use
   */
  resourceClient?: DynamoDBDocumentClient;
  /**
   * How long one request may take before the call fails with `LockServiceUnavailable`, in ms:
   * each DynamoDB request with the `dynamodb` transport and of fenced reads and writes (default
   * 3,000); each HTTP request or Lambda invocation beyond the wait it asks the service for
   * (default 10,000). An acquire returns within `waitMs` plus about this; renew, release and get
   * within it.
   */
  requestTimeoutMs?: number;
}

/** How a {@link LockClient} reaches the service, chosen once at construction. */
export type LockClientOptions = ResourceOptions &
  (
    | ({ transport: 'http' } & HttpTransportOptions)
    | ({ transport: 'lambda' } & LambdaTransportOptions)
    | ({ transport: 'dynamodb' } & LockManagerOptions)
    | { transport: LockTransport }
  );

export interface WithLockOptions {
  /** @default a generated unique id */
  owner?: string;
  /** @default 30,000 ms */
  leaseMs?: number;
  /** How long to wait for a held lock. @default 0 (one attempt) */
  waitMs?: number;
  /** Kept with the grant. @default none */
  data?: LockData;
  /** Take one permit of a semaphore of this many permits instead of the lock. @default none */
  permits?: number;
  /** Time between renewals. @default a third of the lease */
  renewEveryMs?: number;
}

/** What the function run under a lock receives. */
export interface LockContext {
  /** The fencing token to pass with every write to the protected resource. */
  token: number;
  /** Fires the moment the lease is lost or could not be renewed in time; its reason is a `LockLost`. */
  signal: AbortSignal;
  /** The grant as first acquired. */
  grant: Grant;
}

/**
 * The longest wait one request to the service asks for: under the HTTP API's default cap
 * (`MAX_HTTP_WAIT_MS`, 25 s), so each request answers before API Gateway's 29 s timeout.
 */
const REMOTE_WAIT_SLICE_MS = 20_000;

function transportFor(options: LockClientOptions): LockTransport {
  switch (options.transport) {
    case 'http':
      return new HttpTransport(options);
    case 'lambda':
      return new LambdaTransport(options);
    case 'dynamodb':
      return new LockManager(options);
    default:
      return options.transport;
  }
}

/**
 * One client for the lock service over HTTP (SigV4), direct Lambda invocation, or DynamoDB via
 * the core library: the same methods and the same typed errors whichever transport.
 *
 * @example
 * const client = new LockClient({ transport: 'lambda', functionName: 'LockService-Direct' });
 * await client.withLock('orders/42', async ({ token, signal }) => ship(order, token, signal), {
 *   leaseMs: 15_000, waitMs: 10_000,
 * });
 */
export class LockClient implements LockTransport {
  readonly transport: LockTransport;
  private resources?: DynamoDBDocumentClient;
  private readonly resourceTimeoutMs: number;
  private serviceWaits = true;

  constructor(options: LockClientOptions) {
    this.resourceTimeoutMs = parseRequestTimeoutMs(options.requestTimeoutMs);
    this.transport = transportFor(options);
    this.resources = options.resourceClient
      ? withRequestTimeout(options.resourceClient, this.resourceTimeoutMs)
      : this.transport instanceof LockManager
        ? this.transport.client
        : undefined;
  }

  /**
   * Writes a protected item only if `token` is not older than any token it has accepted;
   * throws `FencedOut` otherwise (see the core's `fencedWrite`).
   *
   * @example
   * await client.withLock('orders/42', ({ token }) =>
   *   client.fencedWrite({ tableName: 'orders', key: { id: '42' }, token, set: { paid: true } }));
   */
  fencedWrite(input: FencedWriteInput): ReturnType<typeof fencedWrite> {
    return fencedWrite(this.resourceClient(), input);
  }

  /**
   * Claims a protected item for `token` and returns it, so a read-modify-write cannot lose an
   * update to an older holder's late write (see the core's `fencedRead`).
   *
   * @example
   * const order = await client.fencedRead({ tableName: 'orders', key: { id: '42' }, token });
   */
  fencedRead(target: FencedTarget): ReturnType<typeof fencedRead> {
    return fencedRead(this.resourceClient(), target);
  }

  private resourceClient(): DynamoDBDocumentClient {
    this.resources ??= withRequestTimeout(createDocumentClient(), this.resourceTimeoutMs);
    return this.resources;
  }

  /**
   * Acquires, waiting up to `waitMs` on the client side (remote transports cap how long one
   * request may wait, so the client polls, sleeping until the holder's lease would end).
   *
   * @example
   * const grant = await client.acquire('reports', { owner: 'me', waitMs: 60_000 });
   */
  async acquire(lockId: string, options: AcquireOptions): Promise<Grant> {
    if (this.transport instanceof LockManager) return this.transport.acquire(lockId, options);
    const waitMs = parseWaitMs(options.waitMs);
    const deadline = Date.now() + waitMs;
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      // The service waits in line for one slice of the
      // wait at a time, as long as one request may take; then the client asks again.
      const slice = this.serviceWaits ? Math.max(0, Math.min(remaining, REMOTE_WAIT_SLICE_MS)) : 0;
      try {
        return await this.transport.acquire(lockId, { ...options, waitMs: slice });
      } catch (err) {
        if (err instanceof ValidationError && err.field === 'waitMs' && slice > 0) {
          // A service configured for shorter waits (MAX_HTTP_WAIT_MS): poll from here instead.
          this.serviceWaits = false;
          continue;
        }
        const left = deadline - Date.now();
        if (!(err instanceof LockHeld) || left <= 0) throw err;
        // The service waited its slice; ask again after the floor, never in a tight loop.
        if (slice > 0) {
          await sleep(Math.min(WAITING.floorMs, left));
          continue;
        }
        const backoff = { ...BACKOFF_DEFAULTS, random: Math.random };
        await sleep(backoffDelay(attempt, backoff, err.retryAfterMs, left));
      }
    }
  }

  /** @example await client.renew('reports', grant); */
  renew(lockId: string, options: RenewOptions): Promise<Grant> {
    return this.transport.renew(lockId, options);
  }

  /** @example await client.release('reports', grant); */
  release(lockId: string, options: ReleaseOptions): Promise<ReleaseResult> {
    return this.transport.release(lockId, options);
  }

  /**
   * One page of the table's locks, each as {@link get} shows it; pass `cursor` back for the
   * next. A Scan of the table (see `LockManager.list` for its cost): for operators.
   *
   * @example const { locks, cursor } = await client.list({ prefix: 'orders/', limit: 50 });
   */
  list(options?: ListOptions): Promise<ListResult> {
    return this.transport.list(options);
  }

  /** @example const { held } = await client.get('reports'); */
  get(lockId: string): Promise<LockState> {
    return this.transport.get(lockId);
  }

  /** @example await client.forceRelease('reports'); */
  forceRelease(lockId: string): Promise<ReleaseResult> {
    return this.transport.forceRelease(lockId);
  }

  /**
   * Runs `fn` while holding the lock: acquires (waiting up to `waitMs`), renews in the background
   * well before expiry, aborts `signal` as soon as the lease is lost or cannot be renewed in
   * time, releases in `finally`, and returns what `fn` returns.
   *
   * @example
   * const total = await client.withLock('orders/42', async ({ token, signal }) => {
   *   return fencedWrite(doc, { tableName: 'orders', key: { id: '42' }, token, set: { paid: true } });
   * });
   */
  async withLock<T>(
    lockId: string,
    fn: (context: LockContext) => Promise<T>,
    options: WithLockOptions = {},
  ): Promise<T> {
    const owner = options.owner ?? `lock-client-${randomUUID()}`;
    const leaseMs = parseLeaseMs(options.leaseMs, LIMITS.leaseMsDefault);
    const { permits } = options;
    // Waits through this client's own acquire, in line, whichever the transport.
    const timed = await timedAcquire(this, lockId, {
      owner,
      leaseMs,
      waitMs: options.waitMs,
      data: options.data,
      permits,
    });
    const keeper = new LeaseKeeper(this.transport, timed, {
      leaseMs,
      renewEveryMs: options.renewEveryMs,
      // A caller-chosen owner may get back an older grant it already held (an idempotent
      // retry), whose lease began earlier: renew at once to learn its real end.
      renewAtOnce: options.owner !== undefined || timed.renewAtOnce,
    });
    const first = timed.grant;
    try {
      return await fn({ token: first.token, signal: keeper.signal, grant: first });
    } finally {
      // The lease ends by itself; a failed release must not hide fn's own outcome.
      await keeper.release().catch(() => {});
    }
  }
}
