// Maps middy's before/after/onError hooks onto InvocationLock; the logic lives there.
import type { EarlyResponseRequest } from './early-response.js';
import { runPowertoolsCleanup, settleOnEarlyResponse } from './early-response.js';
import { InvocationLock } from './invocation-lock.js';
import {
  type LambdaContextLike,
  type LockedContext,
  type LockMiddlewareOptions,
  parseLockOptions,
} from './options.js';

/** The parts of middy's request (6.x and 7.x) the middleware reads and writes. */
export interface LockRequest<TEvent = unknown, TResult = unknown> extends EarlyResponseRequest {
  event: TEvent;
  context: LambdaContextLike & Partial<LockedContext>;
  response?: TResult | null;
  earlyResponse?: TResult | null;
}

/** A middy middleware object (`{ before, after, onError }`), for `middy(handler).use(...)`. */
export interface LockMiddleware<TEvent = unknown, TResult = unknown> {
  name: string;
  before: (request: LockRequest<TEvent, TResult>) => Promise<void>;
  after: (request: LockRequest<TEvent, TResult>) => Promise<void>;
  onError: (request: LockRequest<TEvent, TResult>) => Promise<void>;
}

/**
 * A middy middleware that runs the handler only while holding a lock: acquires before it
 * (throwing `LockHeld`, skipping or waiting when another invocation holds the lock), renews the
 * lease while it runs, puts `{ lockId, owner, token, signal }` at `context.lock`, and releases
 * after it, on error, and when any other middleware ends the invocation early. Options are
 * checked here, once.
 *
 * @example
 * import middy from '@middy/core';
 * import { LockClient } from 'fenced-lock';
 * import { lock } from 'fenced-lock/middy';
 *
 * const client = new LockClient({ transport: 'dynamodb', tableName: process.env.LOCK_TABLE! });
 * export const handler = middy(processOrder).use(
 *   lock({
 *     client,
 *     lockId: (event: OrderEvent) => `orders/${event.detail.orderId}`,
 *     leaseMs: 30_000,
 *     onHeld: 'skip',
 *   }),
 * );
 */
export function lock<TEvent = unknown, TResult = unknown>(
  options: LockMiddlewareOptions<TEvent, TResult>,
): LockMiddleware<TEvent, TResult> {
  const settings = parseLockOptions(options);
  // Per request, not in request.internal: middy 6 shares that object between invocations when
  // the plugin config supplies it, and invocations may run concurrently outside Lambda.
  const running = new WeakMap<
    object,
    { invocation: InvocationLock<TEvent, TResult>; unguard: () => void }
  >();

  const end = async (request: LockRequest<TEvent, TResult>) => {
    const held = running.get(request);
    if (held === undefined) return;
    running.delete(request);
    held.unguard();
    await held.invocation.end();
  };

  return {
    name: 'fenced-lock',
    before: async (request) => {
      const invocation = new InvocationLock(settings);
      const outcome = await invocation.begin(request.event, request.context);
      if (!outcome.held) {
        await runPowertoolsCleanup(request);
        // Set rather than returned: middy 6+ takes an undefined early response only this way.
        request.earlyResponse = outcome.response;
        return;
      }
      request.context.lock = outcome.lock;
      running.set(request, {
        invocation,
        unguard: settleOnEarlyResponse(request, () => end(request)),
      });
    },
    after: end,
    onError: end,
  };
}
