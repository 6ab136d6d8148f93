// Contention across processes, as users deploy waiters: each process (bench/contender.ts) is one
// Lambda with its own client; DynamoDB, through the counting proxy, is all they share.
import { fileURLToPath } from 'node:url';
import { type LineProcess, spawnLineProcess } from './child-process.js';
import type { SystemKey, SystemOptions } from './lock-systems.js';
import { type LatencySummary, type Spread, spread, summarize } from './stats.js';

const CONTENDER_SCRIPT = fileURLToPath(new URL('./contender.ts', import.meta.url));

/**
 * Epoch ms with sub-millisecond resolution. Every process of one machine reads the same clock,
 * so the times of all processes can be merged into one timeline.
 */
export const now = (): number => performance.timeOrigin + performance.now();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** What each caller does, in a loop, from the window's start to its end. */
export type Workload =
  /** Ask and wait without bound, hold `holdMs`, release, ask again at once. */
  | { kind: 'wait'; holdMs: number }
  /**
   * Ask as a try-lock (no wait) with probability `tryShare`, else waiting a random 1 to
   * `maxWaitMs` ms; hold `holdMs` when granted, release; pause a random 0 to `pauseMs` ms.
   */
  | { kind: 'mixed'; holdMs: number; tryShare: number; maxWaitMs: number; pauseMs: number };

/** What one contender process is told (as JSON on its command line). */
export interface ContenderConfig {
  key: SystemKey;
  system: SystemOptions;
  lockId: string;
  leaseMs: number;
  /** Its callers' owner names, unique across the run. */
  callers: string[];
  workload: Workload;
}

/** One ask, as the caller saw it (epoch ms, see {@link now}). */
export interface Attempt {
  caller: string;
  mode: 'wait' | 'try';
  waitMs?: number;
  askedAt: number;
  grantedAt?: number;
  /** When the release was sent, after the hold. */
  releasedAt?: number;
  /** When the acquire gave up or failed. */
  refusedAt?: number;
  /** Failed otherwise than by not being granted. */
  error?: boolean;
}

/** What a contender process prints at the end. */
export interface ContenderReport {
  /** Answered attempts. */
  attempts: Attempt[];
  /** Attempts still unanswered at the end of the window. */
  pending: { caller: string; askedAt: number }[];
  errors: number;
  firstError?: string;
}

/** Callers spread over processes, contending for one lock. */
export interface ProcessContentionResult {
  processes: number;
  callers: number;
  workload: Workload;
  leaseMs: number;
  /** The round trip the proxy added to every DynamoDB request. */
  rttMs: number;
  durationMs: number;
  /** Grants made inside the window. */
  grants: number;
  grantsPerSec: number;
  /**
   * From asking to holding, for callers that wait. A caller still waiting when the window
   * closes counts with the wait it had so far (a lower bound), so starvation shows in the tail.
   * In the mixed workload, only the granted waits (a wait that ran out is in `modes`).
   */
  wait: LatencySummary;
  grantsPerCaller: number[];
  fairness: Spread;
  /**
   * The longest stretch of the window without a grant: between consecutive grants, or from
   * the window's start to the first, or from the last to its end.
   */
  longestGapMs: number;
  /**
   * Grants made while another holder's hold (as its process recorded it) had not ended: must
   * be 0. The recorded hold lies inside the real one, so a count here is a real overlap.
   */
  overlaps: number;
  waitingAtEnd: number;
  /** DynamoDB requests per grant over the window, counted at the proxy for all processes. */
  requestsPerGrant: { total: number; reads: number; writes: number };
  /** Attempts and grants by kind of caller. */
  modes: Record<'wait' | 'try', { attempts: number; granted: number }>;
  errors: number;
  firstError?: string;
}

export interface ProcessContentionOptions {
  key: SystemKey;
  system: SystemOptions;
  processes: number;
  /** Callers in all, dealt round-robin to the processes. */
  callers: number;
  workload: Workload;
  /** The window of one round. */
  durationMs: number;
  leaseMs: number;
  lockId: string;
  rttMs: number;
  /** The requests the proxy has counted so far. */
  counted: () => { reads: number; writes: number };
}

/** What the processes of one window reported, with the window and the proxy's counts. */
export interface ContentionRound {
  reports: ContenderReport[];
  startAt: number;
  endAt: number;
  before: { reads: number; writes: number };
  after: { reads: number; writes: number };
}

/** Owner names of the callers, the same in every round so rounds merge per caller. */
const callerNames = (callers: number) => Array.from({ length: callers }, (_, c) => `caller-${c}`);

/**
 * One round: starts fresh processes, waits until all are loaded and warm, lets their callers
 * loop on one lock for `durationMs`, collects what each saw, and kills them (so nothing left
 * waiting asks DynamoDB during the next round). Rounds of the systems take turns, so drift in a
 * shared machine's load falls on all alike; {@link summarizeContention} merges them.
 *
 * @example
 * const round = await runContentionRound({ key: 'library', system, processes: 8, callers: 8,
 *   workload: { kind: 'wait', holdMs: 5 }, durationMs: 3000, leaseMs: 2000, lockId: 'hot-1',
 *   rttMs: 4, counted: () => proxy.counts() });
 * const result = summarizeContention(options, [round]);
 */
export async function runContentionRound(
  options: ProcessContentionOptions,
): Promise<ContentionRound> {
  const names = callerNames(options.callers);
  const children: LineProcess[] = [];
  try {
    for (let p = 0; p < options.processes; p++) {
      const config: ContenderConfig = {
        key: options.key,
        system: options.system,
        lockId: options.lockId,
        leaseMs: options.leaseMs,
        callers: names.filter((_, c) => c % options.processes === p),
        workload: options.workload,
      };
      children.push(spawnLineProcess(CONTENDER_SCRIPT, [JSON.stringify(config)]));
    }
    for (const child of children) {
      const line = await child.nextLine();
      if (line !== 'ready') throw new Error(`contender: unexpected output: ${line}`);
    }
    // A common start a little ahead, so every process begins together.
    const startAt = now() + 300;
    const endAt = startAt + options.durationMs;
    for (const child of children) child.send(JSON.stringify({ startAt, endAt }));
    await sleep(startAt - now());
    const before = options.counted();
    await sleep(endAt - now());
    const after = options.counted();
    const reports = await Promise.all(
      children.map(async (child) => JSON.parse(await child.nextLine()) as ContenderReport),
    );
    return { reports, startAt, endAt, before, after };
  } finally {
    await Promise.all(children.map((child) => child.kill()));
  }
}

/**
 * Merges rounds into one result: grants, waits and requests pooled, the longest stretch without
 * a grant the longest of any round. `options.durationMs` is that of one round.
 *
 * @example const result = summarizeContention(options, [round1, round2]);
 */
export function summarizeContention(
  options: ProcessContentionOptions,
  rounds: readonly ContentionRound[],
): ProcessContentionResult {
  const names = callerNames(options.callers);
  const perRound = rounds.map((round) => summarizeRound(options, round));
  const grants = perRound.flatMap((r) => r.grants);
  const grantsPerCaller = names.map((name) => grants.filter((g) => g.caller === name).length);
  const durationMs = rounds.reduce((n, r) => n + (r.endAt - r.startAt), 0);
  const count = (pick: (r: ContentionRound) => number) => rounds.reduce((n, r) => n + pick(r), 0);
  const reads = count((r) => r.after.reads - r.before.reads);
  const writes = count((r) => r.after.writes - r.before.writes);
  const per = (n: number) => (grants.length > 0 ? n / grants.length : Number.NaN);
  const mode = (kind: 'wait' | 'try') => ({
    attempts: perRound.reduce((n, r) => n + r.modes[kind].attempts, 0),
    granted: perRound.reduce((n, r) => n + r.modes[kind].granted, 0),
  });
  const reports = rounds.flatMap((r) => r.reports);
  const firstError = reports.find((r) => r.firstError)?.firstError;
  return {
    processes: options.processes,
    callers: options.callers,
    workload: options.workload,
    leaseMs: options.leaseMs,
    rttMs: options.rttMs,
    durationMs,
    grants: grants.length,
    grantsPerSec: durationMs > 0 ? (grants.length / durationMs) * 1000 : 0,
    wait: summarize(perRound.flatMap((r) => r.waits)),
    grantsPerCaller,
    fairness: spread(grantsPerCaller),
    longestGapMs: Math.max(...perRound.map((r) => r.longestGapMs)),
    overlaps: perRound.reduce((n, r) => n + r.overlaps, 0),
    waitingAtEnd: reports.reduce((n, r) => n + r.pending.length, 0),
    requestsPerGrant: { reads: per(reads), writes: per(writes), total: per(reads + writes) },
    modes: { wait: mode('wait'), try: mode('try') },
    errors: reports.reduce((n, r) => n + r.errors, 0),
    ...(firstError ? { firstError } : {}),
  };
}

/** One round's timeline: its grants in order, waits, overlaps and longest stretch without a grant. */
function summarizeRound(options: ProcessContentionOptions, round: ContentionRound) {
  const { startAt, endAt } = round;
  const attempts = round.reports.flatMap((r) => r.attempts);
  const inWindow = (a: Attempt) => a.grantedAt !== undefined && a.grantedAt < endAt;
  const grants = attempts.filter(inWindow).sort((a, b) => a.grantedAt! - b.grantedAt!);
  const waits = [
    ...attempts
      .filter((a) => a.mode === 'wait' && a.grantedAt !== undefined)
      .map((a) => Math.min(a.grantedAt!, endAt) - a.askedAt),
    // Only a caller that waits without bound can be starved; a bounded wait ends by itself.
    ...(options.workload.kind === 'wait'
      ? round.reports.flatMap((r) => r.pending).map((p) => endAt - p.askedAt)
      : []),
  ];
  let overlaps = 0;
  let heldUntil = Number.NEGATIVE_INFINITY;
  let longestGapMs = 0;
  let previous = startAt;
  for (const grant of grants) {
    if (grant.grantedAt! < heldUntil) overlaps++;
    heldUntil = Math.max(heldUntil, grant.releasedAt ?? Number.POSITIVE_INFINITY);
    longestGapMs = Math.max(longestGapMs, grant.grantedAt! - previous);
    previous = grant.grantedAt!;
  }
  longestGapMs = Math.max(longestGapMs, endAt - previous);
  const mode = (kind: 'wait' | 'try') => {
    const asked = attempts.filter((a) => a.mode === kind && a.askedAt < endAt);
    return { attempts: asked.length, granted: asked.filter(inWindow).length };
  };
  return {
    grants,
    waits,
    overlaps,
    longestGapMs,
    modes: { wait: mode('wait'), try: mode('try') },
  };
}
