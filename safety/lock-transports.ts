// The two ways a client process takes the lock: the library in-process, or the HTTP API of
// the local server. Both answer in the same shape so the workload loop does not care.
import { fromHttpError } from '../lib/contract/error-codec.js';
import { pathFor } from '../lib/contract/http.js';
import type { LockManager } from '../lib/core/index.js';
import { LostResponse } from './lost-response.js';

/** A grant as the workload needs it. */
export interface SafetyGrant {
  token: number;
  expiresAt: number;
}

/** The lock operations of the workload; with `permits`, on a permit of a semaphore. */
export interface SafetyLocks {
  acquire(
    lockId: string,
    owner: string,
    leaseMs: number,
    waitMs: number,
    permits?: number,
  ): Promise<SafetyGrant>;
  release(
    lockId: string,
    owner: string,
    token: number,
    permits?: number,
  ): Promise<{ released: boolean }>;
}

/**
 * Lock operations through the library; faults are injected in its DynamoDB client.
 *
 * @example const locks = libraryLocks(new LockManager({ tableName: 'locks', client: doc }));
 */
export function libraryLocks(manager: LockManager): SafetyLocks {
  return {
    acquire: (lockId, owner, leaseMs, waitMs, permits) =>
      manager.acquire(lockId, {
        owner,
        leaseMs,
        waitMs,
        ...(permits === undefined ? {} : { permits }),
      }),
    release: (lockId, owner, token, permits) =>
      manager.release(lockId, { owner, token, ...(permits === undefined ? {} : { permits }) }),
  };
}

/**
 * Lock operations over the real HTTP API (no signing: the local server does not check it).
 * With probability `lostRate` a response that arrived is thrown away, and the call fails with
 * {@link LostResponse} carrying what the server really answered.
 *
 * @example const locks = httpLocks('http://127.0.0.1:3000', 0, Math.random);
 */
export function httpLocks(baseUrl: string, lostRate: number, random: () => number): SafetyLocks {
  const post = async (
    lockId: string,
    operation: 'acquire' | 'release',
    body: object,
    timeoutMs: number,
  ) => {
    const response = await fetch(`${baseUrl}${pathFor(operation, lockId)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    // The client's own codec: a 409 LockHeld comes back as LockHeld, a 5xx as a fault.
    if (!response.ok) throw fromHttpError(response.status, text, lockId);
    return JSON.parse(text) as Record<string, unknown>;
  };
  return {
    async acquire(lockId, owner, leaseMs, waitMs, permits) {
      const body = { owner, leaseMs, waitMs, ...(permits === undefined ? {} : { permits }) };
      const json = await post(lockId, 'acquire', body, waitMs + 10_000);
      const grant = { token: Number(json.token), expiresAt: Number(json.expiresAt) };
      if (random() < lostRate) throw new LostResponse(grant);
      return grant;
    },
    async release(lockId, owner, token, permits) {
      const body = { owner, token, ...(permits === undefined ? {} : { permits }) };
      const json = await post(lockId, 'release', body, 10_000);
      const released = json.released === true;
      if (random() < lostRate) throw new LostResponse({ released });
      return { released };
    },
  };
}
