import { WAITING } from './waiting.js';

/** How a waiting acquire spaces its attempts while the lock is held. */
export interface Backoff {
  /** First delay ceiling, in ms. */
  baseMs: number;
  /** Largest delay ceiling, in ms. */
  maxMs: number;
  /** Source of jitter in [0, 1). */
  random: () => number;
}

/** The defaults of every waiting acquire (the library's and the client's). */
export const BACKOFF_DEFAULTS = { baseMs: 50, maxMs: 1_000 } as const;

/**
 * The delay before attempt `attempt + 1`: full jitter under an exponentially growing ceiling,
 * but never past the moment the holder's lease ends (`retryAfterMs`) nor the caller's deadline
 * (`remainingMs`); never under the waiting floor (5 ms) unless the deadline is nearer.
 *
 * @example
 * await sleep(backoffDelay(attempt, { ...BACKOFF_DEFAULTS, random: Math.random }, err.retryAfterMs, remaining));
 */
export function backoffDelay(
  attempt: number,
  { baseMs, maxMs, random }: Backoff,
  retryAfterMs: number,
  remainingMs: number,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  const jittered = Math.ceil(random() * ceiling);
  const delay = Math.max(WAITING.floorMs, Math.min(jittered, retryAfterMs));
  return Math.max(1, Math.min(delay, remainingMs));
}
