// The lock of one Lambda invocation, with no knowledge of middy: the middleware (and any other
// wrapper) only calls begin() before the handler and end() once it is over, however it ended.
import { LeaseKeeper } from '../client/lease-keeper.js';
import { timedAcquire } from '../client/timed-acquire.js';
import { LockHeld, LockLost } from '../core/errors.js';
import {
  type HeldLock,
  type LambdaContextLike,
  type LockSettings,
  lockIdFor,
  ownerFor,
} from './options.js';

/**
 * The metrics the lock adds to `metrics`, each a `Count` of one per occurrence.
 *
 * @example
 * new Alarm(this, 'LocksLost', { metric: new Metric({ namespace, metricName: LOCK_METRICS.lost }), threshold: 1, evaluationPeriods: 1 });
 */
export const LOCK_METRICS = {
  /** The lock was acquired and the handler ran. */
  acquired: 'LockAcquired',
  /** The lock was held by another owner and the invocation failed with `LockHeld`. */
  held: 'LockHeld',
  /** The lock was held by another owner and the invocation was skipped. */
  skipped: 'LockSkipped',
  /** The lock was lost while the handler ran. */
  lost: 'LockLost',
  /** The function was about to time out while the handler ran: `signal` fired. */
  nearTimeout: 'LockNearTimeout',
  /** The release after the handler failed (the lease then ends by itself). */
  releaseFailed: 'LockReleaseFailed',
} as const;

/** How beginning an invocation's lock turned out. */
export type LockOutcome<TResult> =
  { held: true; lock: HeldLock } | { held: false; response: TResult | undefined };

/**
 * Acquires the lock for one invocation (or decides to skip it), keeps its lease while the
 * handler runs, and releases it afterwards.
 *
 * @example
 * const invocation = new InvocationLock(parseLockOptions({ client, lockId: 'nightly' }));
 * const outcome = await invocation.begin(event, context);
 * try { if (outcome.held) await work(outcome.lock.token, outcome.lock.signal); }
 * finally { await invocation.end(); }
 */
export class InvocationLock<TEvent = unknown, TResult = unknown> {
  private keeper?: LeaseKeeper;

  constructor(private readonly settings: LockSettings<TEvent, TResult>) {}

  /**
   * Acquires as the options say. Throws `LockHeld` when held (`'throw'`, or `'wait'` in vain),
   * and any fault or `ValidationError` as it comes.
   */
  async begin(event: TEvent, context: LambdaContextLike): Promise<LockOutcome<TResult>> {
    const { client, leaseMs, onHeld, timeoutMarginMs } = this.settings;
    const lockId = lockIdFor(this.settings.lockId, event, context);
    const owner = ownerFor(this.settings.owner, event, context);
    const deadline = this.deadline(lockId, context);
    const waitMs =
      onHeld === 'wait'
        ? Math.max(0, Math.floor(Math.min(this.settings.waitMs, deadline.leftMs)))
        : 0;

    let timed;
    try {
      timed = await timedAcquire(client, lockId, { owner, leaseMs, waitMs });
    } catch (err) {
      if (!(err instanceof LockHeld)) throw err;
      const refusal = { lockId, owner, holder: err.owner, retryAfterMs: err.retryAfterMs };
      if (onHeld !== 'skip') {
        this.count(LOCK_METRICS.held);
        this.settings.logger?.info('lock held by another owner', refusal);
        throw err;
      }
      this.count(LOCK_METRICS.skipped);
      this.settings.logger?.info('lock held by another owner: invocation skipped', refusal);
      return { held: false, response: this.skipResponse(event, context, err) };
    }

    const keeper = new LeaseKeeper(client, timed, {
      leaseMs,
      // The owner is chosen (the request id by default), so a retried invocation may get back
      // its earlier grant, whose lease began before this request: renew at once to learn its end.
      renewAtOnce: true,
      deadline:
        deadline.at === undefined ? undefined : { at: deadline.at, reason: deadline.reason },
    });
    this.keeper = keeper;
    const { token } = timed.grant;
    keeper.signal.addEventListener(
      'abort',
      () => {
        const nearTimeout = keeper.signal.reason === deadline.reason;
        this.count(nearTimeout ? LOCK_METRICS.nearTimeout : LOCK_METRICS.lost);
        this.settings.logger?.warn(
          nearTimeout
            ? `function about to time out (in ${timeoutMarginMs} ms): lock no longer kept`
            : 'lock lost while the handler ran',
          { lockId, owner, token, reason: String((keeper.signal.reason as Error).message) },
        );
      },
      { once: true },
    );
    this.count(LOCK_METRICS.acquired);
    this.settings.logger?.info('lock acquired', { lockId, owner, token });
    return { held: true, lock: { lockId, owner, token, signal: keeper.signal } };
  }

  /** Stops keeping the lease and releases it; never throws, and does nothing twice. */
  async end(): Promise<void> {
    const keeper = this.keeper;
    if (keeper === undefined) return;
    this.keeper = undefined;
    const { lockId, owner, token } = keeper.grant;
    try {
      // released is false when the lock was lost or force-released meanwhile: nothing to undo.
      const { released } = await keeper.release();
      this.settings.logger?.debug('lock released', { lockId, owner, token, released });
    } catch (err) {
      this.count(LOCK_METRICS.releaseFailed);
      this.settings.logger?.warn('lock release failed; its lease will end by itself', {
        lockId,
        owner,
        token,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    }
  }

  /**
   * The instant (on the `performance.now()` clock) at which the lease stops being kept, and the
   * time until then; unbounded without `getRemainingTimeInMillis`.
   */
  private deadline(lockId: string, context: LambdaContextLike) {
    const margin = this.settings.timeoutMarginMs;
    const remaining = context?.getRemainingTimeInMillis?.();
    const reason = new LockLost(
      lockId,
      `the function times out in less than ${margin} ms: "${lockId}" is no longer kept`,
    );
    if (typeof remaining !== 'number' || !Number.isFinite(remaining)) {
      return { at: undefined, leftMs: Infinity, reason };
    }
    const leftMs = remaining - margin;
    return { at: performance.now() + leftMs, leftMs, reason };
  }

  private skipResponse(event: TEvent, context: LambdaContextLike, held: LockHeld) {
    const { skipResponse } = this.settings;
    return typeof skipResponse === 'function'
      ? (skipResponse as (e: TEvent, c: LambdaContextLike, h: LockHeld) => TResult)(
          event,
          context,
          held,
        )
      : skipResponse;
  }

  private count(name: string): void {
    this.settings.metrics?.addMetric(name, 'Count', 1);
  }
}
