import { ValidationError, type LockHeld } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import {
  parseInteger,
  parseLeaseMs,
  parseLockId,
  parseName,
  parseObject,
  parseWaitMs,
} from '../core/validation.js';
import type { LockTransport } from '../client/transport.js';

/**
 * The parts of a Lambda context the lock reads. `Context` from `aws-lambda` fits; so does any
 * object with these members (a test's context, a container's).
 */
export interface LambdaContextLike {
  /** The invocation's id: the default owner. */
  awsRequestId?: string;
  /** Time left before the function times out, in ms: bounds waits and fires `signal` early. */
  getRemainingTimeInMillis?(): number;
}

/** The lock an invocation holds while its handler runs, at `context.lock`. */
export interface HeldLock {
  readonly lockId: string;
  readonly owner: string;
  /** The fencing token: pass it with every write to the protected resource (`fencedWrite`). */
  readonly token: number;
  /**
   * Fires when the lock is lost (a renew was refused, or the lease ran out before one got
   * through) or the function is about to time out; its reason is a `LockLost`.
   */
  readonly signal: AbortSignal;
}

/**
 * The context a locked handler receives; intersect it with your context type.
 *
 * @example
 * const processOrder = async (event: OrderEvent, context: Context & LockedContext) => {
 *   await client.fencedWrite({ tableName: 'orders', key: { id: event.id }, token: context.lock.token, set: { paid: true } });
 * };
 */
export interface LockedContext {
  lock: HeldLock;
}

/** What the middleware needs of a lock service: a `LockClient` (any transport) or a `LockManager`. */
export type LockOperations = Pick<LockTransport, 'acquire' | 'renew' | 'release'>;

/** What to do when another invocation holds the lock. */
export type OnHeld = 'throw' | 'skip' | 'wait';

const ON_HELD: readonly OnHeld[] = ['throw', 'skip', 'wait'];

/** A logger the middleware writes to; Powertools' `Logger` fits. */
export interface LockLogger {
  debug(message: string, attributes: Record<string, unknown>): void;
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** Metrics the middleware adds to; Powertools' `Metrics` fits. */
export interface LockMetrics {
  addMetric(name: string, unit: 'Count', value: number): void;
}

/** Computes a lock id or an owner from the invocation. */
export type FromInvocation<TEvent, T> = (event: TEvent, context: LambdaContextLike) => T;

/**
 * Options of the {@link lock} middleware.
 *
 * @example
 * const options: LockMiddlewareOptions<OrderEvent> = {
 *   client, lockId: (event) => `orders/${event.detail.orderId}`, leaseMs: 30_000, onHeld: 'skip',
 * };
 */
export interface LockMiddlewareOptions<TEvent = unknown, TResult = unknown> {
  /** The lock service: a `LockClient` over any transport, or a `LockManager`. */
  client: LockOperations;
  /** The lock to hold: a fixed id, or one computed from the event (and context). */
  lockId: string | FromInvocation<TEvent, string>;
  /**
   * Who holds the lock. A retry of the same Lambda request (same id) gets its own grant back
   * instead of being refused by it.
   * @default the invocation's `context.awsRequestId`
   */
  owner?: FromInvocation<TEvent, string>;
  /** The lease, in ms; renewed every third of it while the handler runs. @default 30,000 */
  leaseMs?: number;
  /**
   * When the lock is held by another invocation: `'throw'` the `LockHeld` error (the caller,
   * e.g. SQS or EventBridge, retries); `'skip'` the handler and answer `skipResponse`;
   * `'wait'` up to `waitMs` for it, then throw.
   * @default 'throw'
   */
  onHeld?: OnHeld;
  /**
   * With `onHeld: 'wait'` (and only then, where it is required): how long to wait for the lock,
   * in ms, at most 900,000. Never past the invocation's remaining time minus `timeoutMarginMs`.
   * @default none
   */
  waitMs?: number;
  /**
   * With `onHeld: 'skip'` (and only then): the invocation's response when it is skipped, or a
   * function of the event, the context and the `LockHeld` refusal that returns it.
   * @default undefined (for SQS, EventBridge and other event sources: success, nothing retried)
   */
  skipResponse?: TResult | ((event: TEvent, context: LambdaContextLike, held: LockHeld) => TResult);
  /**
   * How long before the function would time out `signal` fires and the lease stops being
   * renewed, in ms; waits also end this long before the timeout. Leaves the handler time to
   * stop and the release time to get through.
   * @default 1,000
   */
  timeoutMarginMs?: number;
  /** Where to log acquisitions, refusals, losses and failed releases. @default none (no logs) */
  logger?: LockLogger;
  /** Where to count acquisitions, refusals, skips and losses. @default none (no metrics) */
  metrics?: LockMetrics;
}

/** The options, checked, with their defaults filled in. */
export interface LockSettings<TEvent = unknown, TResult = unknown> {
  client: LockOperations;
  lockId: string | FromInvocation<TEvent, string>;
  owner?: FromInvocation<TEvent, string>;
  leaseMs: number;
  onHeld: OnHeld;
  waitMs: number;
  skipResponse?: LockMiddlewareOptions<TEvent, TResult>['skipResponse'];
  timeoutMarginMs: number;
  logger?: LockLogger;
  metrics?: LockMetrics;
}

const OPTION_NAMES = [
  'client',
  'lockId',
  'owner',
  'leaseMs',
  'onHeld',
  'waitMs',
  'skipResponse',
  'timeoutMarginMs',
  'logger',
  'metrics',
] as const satisfies readonly (keyof LockMiddlewareOptions)[];

/**
 * The default of `timeoutMarginMs`, in ms.
 *
 * @example lock({ client, lockId, timeoutMarginMs: 2 * TIMEOUT_MARGIN_MS_DEFAULT })
 */
export const TIMEOUT_MARGIN_MS_DEFAULT = 1_000;

const hasMethods = (value: unknown, names: readonly string[]): boolean =>
  typeof value === 'object' &&
  value !== null &&
  names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

/**
 * Checks the middleware's options once, when the handler module loads, so a mistake fails the
 * cold start with a `ValidationError` naming the option rather than some later invocation.
 *
 * @example
 * const settings = parseLockOptions({ client, lockId: 'nightly', onHeld: 'skip' });
 */
export function parseLockOptions<TEvent, TResult>(
  options: LockMiddlewareOptions<TEvent, TResult>,
): LockSettings<TEvent, TResult> {
  const input = parseObject(options, OPTION_NAMES, 'options');
  if (!hasMethods(input.client, ['acquire', 'renew', 'release'])) {
    throw new ValidationError(
      'client',
      'client must be a LockClient or a LockManager (an object with acquire, renew and release)',
    );
  }
  if (typeof options.lockId !== 'function') parseLockId(options.lockId);
  if (options.owner !== undefined && typeof options.owner !== 'function') {
    throw new ValidationError('owner', 'owner must be a function of (event, context)');
  }
  const onHeld = options.onHeld ?? 'throw';
  if (!ON_HELD.includes(onHeld)) {
    throw new ValidationError(
      'onHeld',
      `onHeld must be 'throw', 'skip' or 'wait', got ${JSON.stringify(onHeld)}`,
    );
  }
  if (onHeld === 'wait' && options.waitMs === undefined) {
    throw new ValidationError('waitMs', "waitMs is required with onHeld: 'wait'");
  }
  if (onHeld !== 'wait' && options.waitMs !== undefined) {
    throw new ValidationError('waitMs', `waitMs applies only with onHeld: 'wait', not '${onHeld}'`);
  }
  if (onHeld !== 'skip' && options.skipResponse !== undefined) {
    throw new ValidationError(
      'skipResponse',
      `skipResponse applies only with onHeld: 'skip', not '${onHeld}'`,
    );
  }
  for (const [name, methods] of [
    ['logger', ['debug', 'info', 'warn', 'error']],
    ['metrics', ['addMetric']],
  ] as const) {
    if (input[name] !== undefined && !hasMethods(input[name], methods)) {
      throw new ValidationError(name, `${name} must have the methods ${methods.join(', ')}`);
    }
  }
  return {
    client: options.client,
    lockId: options.lockId,
    owner: options.owner,
    leaseMs: parseLeaseMs(options.leaseMs, LIMITS.leaseMsDefault),
    onHeld,
    waitMs: parseWaitMs(options.waitMs),
    skipResponse: options.skipResponse,
    timeoutMarginMs: parseInteger(
      'timeoutMarginMs',
      options.timeoutMarginMs ?? TIMEOUT_MARGIN_MS_DEFAULT,
      0,
      LIMITS.waitMsMax,
    ),
    logger: options.logger,
    metrics: options.metrics,
  };
}

/**
 * The lock id for one invocation; a function's answer is checked like any lock id, and the
 * error names the `lockId` option.
 *
 * @example lockIdFor((event: { id: string }) => `orders/${event.id}`, event, context)
 */
export function lockIdFor<TEvent>(
  option: LockSettings<TEvent>['lockId'],
  event: TEvent,
  context: LambdaContextLike,
): string {
  if (typeof option === 'string') return option;
  return parseFunctionResult('lockId', option(event, context), LIMITS.lockIdMaxBytes);
}

/**
 * The owner for one invocation: the `owner` function's answer, else the request id.
 *
 * @example ownerFor(undefined, event, context) === context.awsRequestId
 */
export function ownerFor<TEvent>(
  option: LockSettings<TEvent>['owner'],
  event: TEvent,
  context: LambdaContextLike,
): string {
  if (option !== undefined) {
    return parseFunctionResult('owner', option(event, context), LIMITS.ownerMaxBytes);
  }
  if (typeof context?.awsRequestId !== 'string' || context.awsRequestId === '') {
    throw new ValidationError(
      'owner',
      'the context has no awsRequestId to own the lock with: pass an owner option',
    );
  }
  return parseName('owner', context.awsRequestId, LIMITS.ownerMaxBytes);
}

function parseFunctionResult(option: string, value: unknown, maxBytes: number): string {
  try {
    return parseName(option, value, maxBytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ValidationError(option, `the ${option} function's answer is invalid: ${reason}`, {
      cause: err,
    });
  }
}
