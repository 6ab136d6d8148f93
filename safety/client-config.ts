/** Everything a client process needs, passed as one JSON argument. */
export interface ClientConfig {
  /** Process name in the history (`c0`, `c2r1`...). */
  name: string;
  seed: number;
  /** DynamoDB Local endpoint (the register always goes straight to DynamoDB). */
  endpoint: string;
  locksTable: string;
  registerTable: string;
  registerId: string;
  lockId: string;
  transport: 'library' | 'http';
  /** Base URL of the local HTTP server, for `transport: 'http'`. */
  httpUrl?: string;
  leaseMs: number;
  /** How long one acquire may wait for a held lock: drawn in this range (ms) per acquire; 0 is a try-lock. */
  waitMs: [number, number];
  /** Injected offset of the client's clock, for library clients. */
  clockOffsetMs: number;
  /** Probability that the response of an applied write is lost. */
  lostResponseRate: number;
  /** Test-only: write the register without fencing (the negative control). */
  unfenced: boolean;
  /**
   * The semaphore workload: take one permit of `lockId` as a semaphore of this many permits
   * (acquire, hold, release; no register). @default the lock workload
   */
  permits?: number;
  /**
   * Test-only (the semaphore's negative control): add this client's permits to the item
   * directly, past the limit, as a broken acquire would.
   */
  overcommit?: boolean;
  /**
   * Test-only (the progress check's negative control): instead of the workload, this many ms
   * after the start, keep the lock's waiter slot taken without ever asking for the lock.
   */
  squatAfterMs?: number;
  historyFile: string;
  /** Epoch ms after which the client finishes its iteration and exits; 0: wait for `start`. */
  stopAt: number;
  workMs: [number, number];
  /** Work time of a section the orchestrator armed for a pause or kill. */
  armedWorkMs: number;
}

/**
 * Messages between the orchestrator and a client over the IPC channel. `arm`: report the next
 * claim (a holder to pause or kill); `arm-wait`: report the next acquire that may wait
 * (`waiting`) and its end (`waited`), for a waiter to pause or kill.
 */
export type ToClient =
  { type: 'start'; stopAt: number } | { type: 'arm' } | { type: 'arm-wait' } | { type: 'disarm' };
export type FromClient =
  | { type: 'ready' }
  | { type: 'claimed'; owner: string; token: number }
  | { type: 'waiting'; owner: string; waitMs: number }
  | { type: 'waited'; owner: string };
