import { fileURLToPath } from 'node:url';
import { spawnLineProcess } from './child-process.js';
import type { RequestCounts } from './request-counting-proxy.js';
import {
  type LockSystem,
  type SystemKey,
  type SystemOptions,
  createSystem,
} from './lock-systems.js';
import { type LatencySummary, type Spread, spread, summarize } from './stats.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Raw samples of uncontended acquire + release cycles; rounds of one scenario merge. */
export interface CycleSamples {
  workers: number;
  cycles: number;
  elapsedMs: number;
  acquire: number[];
  release: number[];
  errors: number;
  firstError?: string;
}

/** Uncontended acquire + release cycles, summarized. */
export interface CycleResult {
  workers: number;
  cycles: number;
  elapsedMs: number;
  cyclesPerSec: number;
  acquire: LatencySummary;
  release: LatencySummary;
  errors: number;
  firstError?: string;
}

export interface CycleOptions {
  workers: number;
  durationMs: number;
  leaseMs: number;
  /** Re-acquire the same lock (one per worker) every cycle instead of a never-used one. */
  reuseLock: boolean;
  /** Makes lock ids unique to this run and scenario. */
  prefix: string;
}

/**
 * Each worker loops acquire -> release on its own locks until the duration is over; records
 * every operation's latency.
 *
 * @example
 * const samples = await runCycles(system, { workers: 1, durationMs: 5000, leaseMs: 2000, reuseLock: false, prefix: 'u1' });
 */
export async function runCycles(system: LockSystem, options: CycleOptions): Promise<CycleSamples> {
  const acquire: number[] = [];
  const release: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async (w: number) => {
    for (let n = 0; performance.now() < deadline; n++) {
      const lockId = options.reuseLock ? `${options.prefix}-w${w}` : `${options.prefix}-w${w}-${n}`;
      try {
        const t0 = performance.now();
        const held = await system.acquire({
          lockId,
          owner: `worker-${w}`,
          leaseMs: options.leaseMs,
          wait: false,
        });
        const t1 = performance.now();
        await held.release();
        const t2 = performance.now();
        acquire.push(t1 - t0);
        release.push(t2 - t1);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        if (errors > 100) throw new Error(`${system.key}: too many errors, first: ${firstError}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.workers }, (_, w) => worker(w)));
  return {
    workers: options.workers,
    cycles: acquire.length,
    elapsedMs: performance.now() - started,
    acquire,
    release,
    errors,
    ...(firstError ? { firstError } : {}),
  };
}

/**
 * Merges rounds of one scenario (run alternately with the other systems) and summarizes them.
 *
 * @example const result = summarizeCycles([round1, round2]);
 */
export function summarizeCycles(rounds: readonly CycleSamples[]): CycleResult {
  const cycles = rounds.reduce((a, r) => a + r.cycles, 0);
  const elapsedMs = rounds.reduce((a, r) => a + r.elapsedMs, 0);
  const firstError = rounds.find((r) => r.firstError)?.firstError;
  return {
    workers: rounds[0]?.workers ?? 0,
    cycles,
    elapsedMs,
    cyclesPerSec: elapsedMs > 0 ? (cycles / elapsedMs) * 1000 : 0,
    acquire: summarize(rounds.flatMap((r) => r.acquire)),
    release: summarize(rounds.flatMap((r) => r.release)),
    errors: rounds.reduce((a, r) => a + r.errors, 0),
    ...(firstError ? { firstError } : {}),
  };
}

/** Several workers competing for one lock. */
export interface ContendedResult {
  workers: number;
  holdMs: number;
  leaseMs: number;
  grants: number;
  durationMs: number;
  grantsPerSec: number;
  /**
   * From asking to holding. A worker still waiting when the window closes counts with the wait
   * it had so far (a lower bound), so a starved worker shows in the tail instead of vanishing.
   */
  wait: LatencySummary;
  grantsPerWorker: number[];
  fairness: Spread;
  /** Grants seen while another worker of this run still held the lock: must be 0. */
  overlaps: number;
  /** Workers still waiting when the window closed (their waits are counted as lower bounds). */
  waitingAtEnd: number;
  /** DynamoDB requests per grant over the window (reads and writes), when counted. */
  requestsPerGrant?: { total: number; reads: number; writes: number };
  errors: number;
  firstError?: string;
}

export interface ContendedOptions {
  workers: number;
  durationMs: number;
  leaseMs: number;
  holdMs: number;
  lockId: string;
  /** Reads the requests counted so far (the counting proxy), to report requests per grant. */
  counted?: () => { reads: number; writes: number };
}

/**
 * Workers loop ask -> hold `holdMs` -> release on one lock, each waiting by the system's own
 * mechanism. Grants made inside the window count; waiters still blocked at its end are let go.
 *
 * @example
 * const result = await runContended(system, { workers: 8, durationMs: 8000, leaseMs: 2000, holdMs: 5, lockId: 'hot' });
 */
export async function runContended(
  system: LockSystem,
  options: ContendedOptions,
): Promise<ContendedResult> {
  const waits: number[] = [];
  const perWorker = new Array<number>(options.workers).fill(0);
  /** When each worker asked, while it waits. */
  const askedAt = new Array<number | undefined>(options.workers);
  let holders = 0;
  let overlaps = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const worker = async (w: number) => {
    while (performance.now() < deadline) {
      const asked = performance.now();
      askedAt[w] = asked;
      try {
        const held = await system.acquire({
          lockId: options.lockId,
          owner: `worker-${w}`,
          leaseMs: options.leaseMs,
          wait: true,
        });
        const granted = performance.now();
        askedAt[w] = undefined;
        if (granted < deadline) {
          if (holders > 0) overlaps++;
          holders++;
          waits.push(granted - asked);
          perWorker[w]!++;
          await sleep(options.holdMs);
          holders--;
        } else {
          waits.push(deadline - asked);
        }
        await held.release();
      } catch (err) {
        askedAt[w] = undefined;
        errors++;
        firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        if (errors > 100) return;
      }
    }
  };
  const before = options.counted?.();
  const workers = Array.from({ length: options.workers }, (_, w) => worker(w));
  await sleep(options.durationMs);
  const after = options.counted?.();
  const waitingAtEnd = askedAt.filter((asked) => asked !== undefined).length;
  // Let go of waiters still blocked after the end (a peer may sleep out a whole lease); their
  // late grants are not counted, and closing the system ends them.
  await Promise.race([Promise.allSettled(workers), sleep(options.leaseMs + 1_000)]);
  for (const asked of askedAt) if (asked !== undefined) waits.push(deadline - asked);
  const grants = perWorker.reduce((a, b) => a + b, 0);
  const per = (n: number) => (grants > 0 ? n / grants : Number.NaN);
  const requestsPerGrant =
    before && after
      ? {
          reads: per(after.reads - before.reads),
          writes: per(after.writes - before.writes),
          total: per(after.reads + after.writes - before.reads - before.writes),
        }
      : undefined;
  return {
    ...(requestsPerGrant ? { requestsPerGrant } : {}),
    workers: options.workers,
    holdMs: options.holdMs,
    leaseMs: options.leaseMs,
    grants,
    durationMs: options.durationMs,
    grantsPerSec: (grants / options.durationMs) * 1000,
    wait: summarize(waits),
    grantsPerWorker: perWorker,
    fairness: spread(perWorker),
    overlaps,
    waitingAtEnd,
    errors,
    ...(firstError ? { firstError } : {}),
  };
}

/** How fast a lock held by a killed process is granted to someone else. */
export interface TakeoverResult {
  leaseMs: number;
  /** When the holder was killed, after it asked for the lock. */
  killedAfterMs: number;
  /** From the kill to another client holding the lock. */
  fromKillMs: number;
  /** From the end of the dead holder's lease (counted from when it asked) to the new grant. */
  afterLeaseEndMs: number;
  error?: string;
}

export interface TakeoverOptions extends SystemOptions {
  leaseMs: number;
  /** @default half the lease */
  killAfterMs?: number;
  lockId: string;
}

const HOLDER_SCRIPT = fileURLToPath(new URL('./holder.ts', import.meta.url));

/** A lock holder in its own process, loaded and waiting for the word to take its lock. */
export interface Holder {
  key: SystemKey;
  options: TakeoverOptions;
  /** Resolves once the process has loaded and waits for its turn. */
  ready: Promise<void>;
  /** Takes the lock; resolves with when it asked (epoch ms). */
  acquire(): Promise<{ askedAt: number }>;
  /** SIGKILL, and wait for the process to be gone. */
  kill(): Promise<void>;
}

/**
 * Starts a holder process. Holders load in parallel ahead of their turn (loading TypeScript
 * takes a second or two), then sit idle, so each takeover is still timed on its own.
 *
 * @example
 * const holder = spawnHolder('library', { dynamodbEndpoint, leaseMs: 2000, lockId: 'dead' });
 */
export function spawnHolder(key: SystemKey, options: TakeoverOptions): Holder {
  const config = { key, system: options, lockId: options.lockId, leaseMs: options.leaseMs };
  const child = spawnLineProcess(HOLDER_SCRIPT, [JSON.stringify(config)]);
  const ready = child.nextLine().then((line) => {
    if (line !== 'ready') throw new Error(`holder: unexpected output: ${line}`);
  });
  ready.catch(() => {});
  return {
    key,
    options,
    ready,
    async acquire() {
      await ready;
      child.send('go');
      return JSON.parse(await child.nextLine()) as { askedAt: number };
    },
    kill: () => child.kill(),
  };
}

/**
 * Lets the holder take its lock, SIGKILLs it mid-lease, then times how long a new client
 * (arriving just after the death, waiting by its system's own mechanism) takes to hold the lock.
 *
 * @example
 * const result = await runTakeover(spawnHolder('library', { dynamodbEndpoint, leaseMs: 2000, lockId: 'dead' }));
 */
export async function runTakeover(holder: Holder): Promise<TakeoverResult> {
  const { leaseMs } = holder.options;
  const killAfterMs = holder.options.killAfterMs ?? Math.round(leaseMs / 2);
  const system = createSystem(holder.key, holder.options);
  try {
    const { askedAt } = await holder.acquire();
    await sleep(Math.max(0, askedAt + killAfterMs - Date.now()));
    await holder.kill();
    const killedAt = Date.now();
    await system.acquire({
      lockId: holder.options.lockId,
      owner: 'successor',
      leaseMs,
      wait: true,
    });
    const grantedAt = Date.now();
    return {
      leaseMs,
      killedAfterMs: killedAt - askedAt,
      fromKillMs: grantedAt - killedAt,
      afterLeaseEndMs: grantedAt - (askedAt + leaseMs),
    };
  } catch (err) {
    return {
      leaseMs,
      killedAfterMs: Number.NaN,
      fromKillMs: Number.NaN,
      afterLeaseEndMs: Number.NaN,
      error: err instanceof Error ? err.message : String(err),
    };
  } finally {
    await holder.kill();
    await system.close();
  }
}

/** DynamoDB requests per operation, averaged over sequential cycles. */
export interface CostResult {
  cycles: number;
  acquire: { reads: number; writes: number };
  release: { reads: number; writes: number };
  /** `readUnits`: the on-demand read request units of the reads (see `RequestCounts`). */
  perCycle: { reads: number; writes: number; total: number; readUnits: number };
  byOperation: Record<string, number>;
}

/**
 * Runs cycles one at a time through a system whose SDK talks to the counting proxy, and
 * attributes each request to the acquire or the release that sent it.
 *
 * @example
 * const cost = await measureCost(system, proxy, { cycles: 50, reuseLock: false, leaseMs: 2000, prefix: 'c' });
 */
export async function measureCost(
  system: LockSystem,
  proxy: { counts(): RequestCounts; reset(): void },
  options: { cycles: number; reuseLock: boolean; leaseMs: number; prefix: string },
): Promise<CostResult> {
  const totals = { ar: 0, aw: 0, rr: 0, rw: 0, units: 0 };
  const byOperation: Record<string, number> = {};
  const add = (counts: RequestCounts) => {
    for (const [op, n] of Object.entries(counts.byOperation))
      byOperation[op] = (byOperation[op] ?? 0) + n;
  };
  for (let n = 0; n < options.cycles; n++) {
    const lockId = options.reuseLock ? `${options.prefix}-same` : `${options.prefix}-${n}`;
    proxy.reset();
    const held = await system.acquire({
      lockId,
      owner: 'cost',
      leaseMs: options.leaseMs,
      wait: false,
    });
    const acquired = proxy.counts();
    proxy.reset();
    await held.release();
    const released = proxy.counts();
    add(acquired);
    add(released);
    totals.ar += acquired.reads;
    totals.aw += acquired.writes;
    totals.rr += released.reads;
    totals.rw += released.writes;
    totals.units += acquired.readUnits + released.readUnits;
  }
  const per = (x: number) => x / options.cycles;
  return {
    cycles: options.cycles,
    acquire: { reads: per(totals.ar), writes: per(totals.aw) },
    release: { reads: per(totals.rr), writes: per(totals.rw) },
    perCycle: {
      reads: per(totals.ar + totals.rr),
      writes: per(totals.aw + totals.rw),
      total: per(totals.ar + totals.aw + totals.rr + totals.rw),
      readUnits: per(totals.units),
    },
    byOperation,
  };
}
