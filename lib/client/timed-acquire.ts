import { setTimeout as sleep } from 'node:timers/promises';
import { BACKOFF_DEFAULTS, backoffDelay } from '../core/backoff.js';
import { LockHeld } from '../core/errors.js';
import type { AcquireOptions, Grant } from '../core/lock-manager.js';
import { parseWaitMs } from '../core/validation.js';
import type { LockTransport } from './transport.js';

/** A grant and the instant, on the monotonic clock, just before the request that won it was sent. */
export interface TimedGrant {
  grant: Grant;
  /** `performance.now()` before the successful attempt: the lease began no earlier. */
  sentAt: number;
}

/**
 * Acquires with one request per attempt, waiting on the client side up to `waitMs` (sleeping with
 * jittered backoff, never past the holder's lease end), and says when the winning attempt was
 * sent. A lease must be measured from there: measured from before the whole wait, a wait longer
 * than the lease would count the lease as over the moment it was granted.
 *
 * @example
 * const { grant, sentAt } = await timedAcquire(client, 'orders/42', { owner: 'me', waitMs: 5_000 });
 */
export async function timedAcquire(
  locks: Pick<LockTransport, 'acquire'>,
  lockId: string,
  options: AcquireOptions,
): Promise<TimedGrant> {
  const deadline = performance.now() + parseWaitMs(options.waitMs);
  const backoff = { ...BACKOFF_DEFAULTS, random: Math.random };
  for (let attempt = 0; ; attempt++) {
    const sentAt = performance.now();
    try {
      return { grant: await locks.acquire(lockId, { ...options, waitMs: 0 }), sentAt };
    } catch (err) {
      const remaining = deadline - performance.now();
      if (!(err instanceof LockHeld) || remaining <= 0) throw err;
      await sleep(backoffDelay(attempt, backoff, err.retryAfterMs, remaining));
    }
  }
}
