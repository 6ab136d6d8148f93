import { LockHeld } from '../core/errors.js';
import type { AcquireOptions, Grant } from '../core/lock-manager.js';
import { parseWaitMs } from '../core/validation.js';
import type { LockTransport } from './transport.js';

/** A grant and the instant, on the monotonic clock, from which its lease is measured locally. */
export interface TimedGrant {
  grant: Grant;
  /** `performance.now()` no later than the lease's start: before the request that won it. */
  sentAt: number;
  /**
   * True when the grant came out of a wait, whose winning request is not known: renew at once
   * to measure the lease again from before a request of one's own.
   */
  renewAtOnce?: boolean;
}

/**
 * Acquires (waiting up to `waitMs` by `locks`' own means: a `LockManager` or `LockClient` waits in
 * line) and says from when to measure the lease. A lease must be measured from
 * before the request that won it: from before a whole wait, a wait longer than the lease would
 * count the lease as over the moment it was granted. One attempt is sent first, timed exactly;
 * after a wait, the lease is measured from the start the grant itself states (never earlier
 * than the wait began) and the caller renews at once, so a clock difference with the service
 * can only matter until that renew answers.
 *
 * @example
 * const { grant, sentAt } = await timedAcquire(client, 'orders/42', { owner: 'me', waitMs: 5_000 });
 */
export async function timedAcquire(
  locks: Pick<LockTransport, 'acquire'>,
  lockId: string,
  options: AcquireOptions,
): Promise<TimedGrant> {
  const waitMs = parseWaitMs(options.waitMs);
  const sentAt = performance.now();
  const asked = Date.now();
  try {
    return { grant: await locks.acquire(lockId, { ...options, waitMs: 0 }), sentAt };
  } catch (err) {
    if (!(err instanceof LockHeld) || waitMs === 0) throw err;
  }
  const grant = await locks.acquire(lockId, {
    ...options,
    waitMs: Math.max(0, waitMs - (Date.now() - asked)),
  });
  const sinceStart = Math.max(0, Date.now() - (grant.expiresAt - grant.leaseMs));
  return {
    grant,
    sentAt: Math.max(sentAt, performance.now() - sinceStart),
    renewAtOnce: true,
  };
}
