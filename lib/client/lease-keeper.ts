import { setTimeout as sleep } from 'node:timers/promises';
import { LockLost } from '../core/errors.js';
import type { Grant, ReleaseResult } from '../core/lock-manager.js';
import type { TimedGrant } from './timed-acquire.js';
import type { LockTransport } from './transport.js';

/** What keeping a lease needs: a `LockClient` over any transport, or a `LockManager`. */
export type LeaseOperations = Pick<LockTransport, 'renew' | 'release'>;

/** An instant past which a lease is no longer kept, whatever the lock service says. */
export interface LeaseDeadline {
  /** The instant on the `performance.now()` clock. */
  at: number;
  /** What `signal` is aborted with when the deadline comes before the lease is lost. */
  reason: LockLost;
}

export interface LeaseKeeperOptions {
  /** The lease each renew asks for, in ms. @default the grant's `leaseMs` */
  leaseMs?: number;
  /** Time between renewals, in ms. @default a third of `leaseMs` */
  renewEveryMs?: number;
  /**
   * Renew as soon as started. Needed when the grant may be an older one handed back to the
   * same owner (an idempotent retry), whose lease began before the request was sent.
   * @default false
   */
  renewAtOnce?: boolean;
  /**
   * Stop keeping the lease at this instant, such as a Lambda function's timeout minus a margin:
   * `signal` fires then and no renew is sent after it.
   * @default none
   */
  deadline?: LeaseDeadline;
}

/**
 * Keeps a lease alive from the moment it was granted: renews it in the background every third
 * of the lease, and aborts `signal` (with a `LockLost`) the moment a renew is refused, the lease
 * runs out locally before a renew got through, or the optional deadline comes. The local end of
 * each lease is measured on the monotonic clock from just before its request was sent, so it is
 * never later than the service's. `stop()` leaves no timer behind; `release()` stops and then
 * releases the grant as last renewed.
 *
 * @example
 * const keeper = new LeaseKeeper(client, await timedAcquire(client, 'orders/42', { owner: 'me' }));
 * try { await work(keeper.grant.token, keeper.signal); }
 * finally { await keeper.release(); }
 */
export class LeaseKeeper {
  private current: Grant;
  private readonly lost = new AbortController();
  /** Aborted when renewing ends: by `stop()` or by the loss of the lease. */
  private readonly halted = new AbortController();
  private expiry?: NodeJS.Timeout;
  private readonly renewing: Promise<void>;
  private readonly leaseMs: number;
  private readonly deadline?: LeaseDeadline;

  constructor(
    private readonly locks: LeaseOperations,
    { grant, sentAt }: TimedGrant,
    options: LeaseKeeperOptions = {},
  ) {
    this.current = grant;
    this.leaseMs = options.leaseMs ?? grant.leaseMs;
    this.deadline = options.deadline;
    this.arm(sentAt, grant.leaseMs);
    const renewEveryMs = options.renewEveryMs ?? Math.floor(this.leaseMs / 3);
    this.renewing = this.keep(renewEveryMs, options.renewAtOnce ? 0 : renewEveryMs);
  }

  /** Fires when the lease is lost or no longer kept; its reason is a `LockLost`. */
  get signal(): AbortSignal {
    return this.lost.signal;
  }

  /** The grant as last renewed (the token never changes). */
  get grant(): Grant {
    return this.current;
  }

  /** Stops renewing, waits for a renew in flight, and clears every timer. */
  async stop(): Promise<Grant> {
    this.halted.abort();
    await this.renewing;
    clearTimeout(this.expiry);
    return this.current;
  }

  /**
   * Stops, then releases the grant. `{ released: false }` when it was no longer current (lost or
   * taken over); throws only when the service cannot be reached.
   */
  async release(): Promise<ReleaseResult> {
    const { lockId, owner, token, permits } = await this.stop();
    return this.locks.release(lockId, { owner, token, permits });
  }

  private lose(reason: LockLost): void {
    if (!this.lost.signal.aborted) this.lost.abort(reason);
    this.halted.abort();
    clearTimeout(this.expiry);
  }

  /** Fires `signal` when a lease that began no earlier than `startedAt` ends, or at the deadline. */
  private arm(startedAt: number, leaseMs: number): void {
    clearTimeout(this.expiry);
    const { lockId } = this.current;
    const end = startedAt + leaseMs;
    const deadline = this.deadline && this.deadline.at < end ? this.deadline : undefined;
    this.expiry = setTimeout(
      () =>
        this.lose(
          deadline?.reason ??
            new LockLost(lockId, `lease of "${lockId}" ended before it could be renewed`),
        ),
      Math.max(0, (deadline?.at ?? end) - performance.now()),
    );
  }

  private async keep(renewEveryMs: number, firstDelay: number): Promise<void> {
    const { signal } = this.halted;
    let delay = firstDelay;
    while (!signal.aborted) {
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        return; // halted while waiting
      }
      const startedAt = performance.now();
      try {
        const { lockId, owner, token, permits } = this.current;
        this.current = await this.locks.renew(lockId, {
          owner,
          token,
          leaseMs: this.leaseMs,
          permits,
        });
        // Stopped (or lost) while this renew was in flight: arming a fresh lease-long timer now
        // would keep the process alive for a whole lease after the holder has finished.
        if (signal.aborted) return;
        this.arm(startedAt, this.leaseMs);
        delay = renewEveryMs;
      } catch (err) {
        if (err instanceof LockLost) return this.lose(err);
        // A transient fault: try again soon; the expiry timer fires if the lease runs out first.
        delay = Math.max(50, Math.floor(renewEveryMs / 4));
      }
    }
  }
}
