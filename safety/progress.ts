// The progress invariant, next to the safety ones: a free lock that live callers keep asking
// for is granted within a stated bound. Like the safety checks it is conservative the other
// way round: it reports a violation only when the recorded times prove the lock was free and
// asked for all along. Whatever might have held the lock (a grant, an acquire whose outcome is
// unknown, a request that may still land) or kept anyone from taking it (DynamoDB down) counts
// as held, and only what a caller was provably doing counts as asking.
import type { Fault, Violation } from './checker.js';
import type { Op } from './history.js';
import { WAITING } from '../lib/core/waiting.js';

/** The bound the waiting design states (issue 19), as the core defines it. */
export const PROGRESS_BOUND_MS = WAITING.progressBoundMs;

/**
 * The least the recorded times add to that bound, in ms: the latency allowance. A gap is
 * measured from the response of a release (or a lease's end) to the response of the next
 * grant, not between the writes themselves: it includes the grant's own round trip and the
 * deciding read just before it, two requests. The allowance is two requests' round trip as
 * this run measured it (the 95th percentile of its one-request operations: releases, claims,
 * register writes), and never less than this floor: on the harness's host (two cores shared
 * by DynamoDB Local, the HTTP server and six client processes) a round trip is mostly under
 * 50 ms but reaches 200-300 ms in bursts. A host so loaded that requests take seconds raises
 * the allowance with them rather than blaming the lock for the host. The same allowance
 * bounds how late a request still in flight when its caller died or gave up may land.
 */
export const PROGRESS_LATENCY_ALLOWANCE_MS = 500;

/**
 * A caller's demand counts as continuous across holes this short: a client's own turnaround
 * from one acquire to the next (recording it, a new owner). Any longer hole ends the stretch.
 */
export const DEMAND_HOLE_MS = 50;

export interface ProgressInput {
  ops: Op[];
  faults: Fault[];
  leaseMs: number;
  /** The stated bound. @default PROGRESS_BOUND_MS */
  boundMs?: number;
  /** The latency allowance. @default measured from the run, at least PROGRESS_LATENCY_ALLOWANCE_MS */
  latencyMs?: number;
}

export interface ProgressReport {
  violations: Violation[];
  /** The bound checked: the stated one plus the latency allowance, in ms. */
  boundMs: number;
  /** Longest stretch in which the lock was free and continuously asked for, in ms. */
  worstGapMs: number | null;
  /** How many such stretches there were. */
  stretches: number;
  /** Try-locks refused while the lock was certainly free (a live waiter may be ahead). */
  tryLocksRefusedFree: number;
}

/** A half-open time span [from, until) in epoch ms. */
type Span = [number, number];

/** Merges spans that overlap or lie at most `hole` apart. */
function mergeSpans(spans: Span[], hole = 0): Span[] {
  const sorted = spans.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const merged: Span[] = [];
  for (const [from, until] of sorted) {
    const last = merged[merged.length - 1];
    if (last && from <= last[1] + hole) last[1] = Math.max(last[1], until);
    else merged.push([from, until]);
  }
  return merged;
}

/** The parts of merged `spans` that lie outside merged `cut`. */
function subtract(spans: Span[], cut: Span[]): Span[] {
  const out: Span[] = [];
  for (const [from, until] of spans) {
    let start = from;
    for (const [a, b] of cut) {
      if (b <= start || a >= until) continue;
      if (a > start) out.push([start, a]);
      start = Math.max(start, b);
      if (start >= until) break;
    }
    if (start < until) out.push([start, until]);
  }
  return out;
}

const overlaps = (spans: Span[], [from, until]: Span) =>
  spans.some(([a, b]) => a < until && b > from);

/**
 * Checks the progress invariant on a lock's history (not a semaphore's).
 *
 * **Held** (the lock may not be free), per acquire: a known grant from the response that
 * reported it (from the call's start if its process was stopped meanwhile) until its owner's
 * release answered or its lease ended, read by the slowest client clock. An acquire whose
 * outcome is unknown from its start until a lease after the last lease end it could have
 * written: a library caller computes it before sending, so a lease after its error or its
 * death; an HTTP caller's server keeps waiting after the caller died or gave up, so a lease
 * after its `waitMs` ran out plus the allowance. Unless the tokens reported around it are
 * consecutive: then no grant was written. DynamoDB down (a restart) counts as held too.
 *
 * **Asking**: a waiting acquire (`waitMs` > 0) from its start until it returned, its process
 * was killed or its wait ran out, minus the time its process was stopped; a try-lock at its
 * own instant.
 *
 * Two ways to fail. A stretch of free time, continuously asked for by waiting callers (holes of
 * at most {@link DEMAND_HOLE_MS} bridged), longer than the bound. And a try-lock refused on a
 * lock that had been free for the whole bound while no waiting caller had asked (so no live
 * waiter can have been ahead of it: a waiter stamps its place only while its call runs, and
 * the place goes stale at most 850 ms after its last stamp, inside the bound).
 *
 * @example
 * const { violations, worstGapMs } = checkProgress({ ops, faults, leaseMs: 1_000 });
 */
export function checkProgress(input: ProgressInput): ProgressReport {
  const { ops, faults, leaseMs } = input;
  const latency = input.latencyMs ?? latencyAllowance(ops);
  const bound = (input.boundMs ?? PROGRESS_BOUND_MS) + latency;
  const violations: Violation[] = [];
  if (ops.length === 0)
    return { violations, boundMs: bound, worstGapMs: null, stretches: 0, tryLocksRefusedFree: 0 };

  const offsets = ops.map((op) => op.clockOffsetMs ?? 0);
  // A lease is read by the slowest clock last; a grant's end was written by at most the fastest.
  const slowSkew = Math.max(0, -Math.min(...offsets));
  const fastSkew = Math.max(0, ...offsets);
  const killedAt = new Map<string, number>();
  const stopped = new Map<string, Span[]>();
  const outages: Span[] = [];
  for (const fault of faults) {
    if (fault.kind === 'kill' || fault.kind === 'kill-waiter')
      killedAt.set(fault.process, fault.at);
    if (fault.kind === 'pause' || fault.kind === 'pause-waiter')
      stopped.set(fault.process, [...(stopped.get(fault.process) ?? []), [fault.at, fault.until]]);
    if (fault.kind === 'db-restart') outages.push([fault.at, fault.until]);
  }
  const killOf = (op: Op) => {
    const at = killedAt.get(op.process);
    return at !== undefined && at >= op.invokeAt ? at : undefined;
  };
  const start = Math.min(...ops.map((op) => op.invokeAt));
  const end = Math.max(...ops.map((op) => Math.max(op.invokeAt, op.completeAt ?? op.invokeAt)));

  const answered = new Map<string, number>();
  for (const op of ops) {
    if (op.f !== 'release' || op.result !== 'ok' || op.completeAt === null) continue;
    const key = `${op.owner}|${op.token}`;
    answered.set(key, Math.min(answered.get(key) ?? Infinity, op.completeAt));
  }

  const held: Span[] = [...outages];
  // For the try-lock rule: a grant may have been written as early as its call began.
  const heldEarly: Span[] = [];
  const waiting: Op[] = [];
  const mayHaveGranted = tokenHoles(ops);
  for (const op of ops) {
    if (op.f !== 'acquire') continue;
    const waitMs = op.waitMs ?? 0;
    if (waitMs > 0) waiting.push(op);
    const { token, expiresAt } = grantOf(op);
    if (op.completeAt !== null && token !== undefined && expiresAt !== undefined) {
      const wasStopped = overlaps(stopped.get(op.process) ?? [], [op.invokeAt, op.completeAt]);
      const from = wasStopped ? op.invokeAt : op.completeAt;
      const until = Math.min(
        expiresAt + slowSkew,
        answered.get(`${op.owner}|${token}`) ?? Infinity,
      );
      held.push([from, Math.max(from, until)]);
      heldEarly.push([op.invokeAt, Math.max(op.invokeAt, until)]);
    } else if (op.result !== 'fail') {
      // A library caller computes its lease end before it sends, so a grant it never heard of
      // ends a lease after it gave up or died; an HTTP caller's server waits on without it.
      const gaveUp = op.completeAt ?? killOf(op) ?? Infinity;
      const lastSent =
        op.transport === 'http' ? Math.max(gaveUp, op.invokeAt + waitMs) + latency : gaveUp;
      if (mayHaveGranted(op.invokeAt, lastSent))
        held.push([op.invokeAt, lastSent + leaseMs + fastSkew + slowSkew]);
    }
  }
  const blocked = mergeSpans(held);
  const blockedEarly = mergeSpans([...held, ...heldEarly]);

  // Waiting callers' demand, and (for the try-lock rule) every span a waiter may hold its place.
  const asked: Span[] = [];
  const placed: Span[] = [];
  for (const op of waiting) {
    const returned = op.completeAt ?? killOf(op) ?? end;
    placed.push([op.invokeAt, returned]);
    const span: Span = [op.invokeAt, Math.min(returned, op.invokeAt + op.waitMs!)];
    asked.push(...subtract([span], mergeSpans(stopped.get(op.process) ?? [])));
  }
  const demand = mergeSpans(asked, DEMAND_HOLE_MS);
  const stretches = subtract(demand, blocked);
  let worstGapMs: number | null = null;
  for (const [from, until] of stretches) {
    const length = until - from;
    worstGapMs = Math.max(worstGapMs ?? 0, length);
    if (length > bound) {
      const askers = [
        ...new Set(
          waiting
            .filter((op) => op.invokeAt < until && (op.completeAt ?? end) > from)
            .map((op) => op.owner),
        ),
      ];
      violations.push({
        check: 'progress',
        message:
          `the lock was free and asked for continuously from ${from} to ${until} ` +
          `(${length} ms, bound ${bound} ms) without a grant; waiting: ${askers.slice(0, 6).join(', ')}`,
      });
    }
  }

  let tryLocksRefusedFree = 0;
  const mergedPlaced = mergeSpans(placed);
  for (const op of ops) {
    if (op.f !== 'acquire' || (op.waitMs ?? -1) !== 0 || op.result !== 'fail') continue;
    const at = op.completeAt!;
    if (overlaps(blockedEarly, [op.invokeAt, at])) continue;
    tryLocksRefusedFree++;
    const window: Span = [op.invokeAt - bound, at];
    if (window[0] < start || overlaps(blockedEarly, window) || overlaps(mergedPlaced, window))
      continue;
    violations.push({
      check: 'progress',
      message:
        `try-lock ${op.id} (${op.owner}) was refused at ${at} on a lock free since at least ` +
        `${window[0]} while no caller was waiting (bound ${bound} ms)`,
    });
  }
  return {
    violations,
    boundMs: bound,
    worstGapMs,
    stretches: stretches.length,
    tryLocksRefusedFree,
  };
}

/** The grant an acquire reported, or whose lost response carried it. */
function grantOf(op: Op): { token?: number; expiresAt?: number } {
  return op.result === 'ok'
    ? { token: op.token, expiresAt: op.expiresAt }
    : { token: op.hidden?.token, expiresAt: op.hidden?.expiresAt };
}

/**
 * Whether a grant nobody reported may have been written between `from` and `until`. Each grant
 * takes the next token, so one unreported grant leaves a hole in the reported tokens: where
 * the reported grants around that time have consecutive tokens, none was written. (A deleted
 * item's counter starts again from the clock: a jump, so a hole.)
 */
function tokenHoles(ops: Op[]): (from: number, until: number) => boolean {
  const byToken = new Map<number, { written: number; reported: number }>();
  for (const op of ops) {
    const { token } = grantOf(op);
    if (op.f !== 'acquire' || op.completeAt === null || token === undefined) continue;
    const seen = byToken.get(token);
    const written = Math.min(op.since ?? op.invokeAt, op.invokeAt);
    byToken.set(token, {
      written: Math.min(seen?.written ?? Infinity, written),
      reported: Math.min(seen?.reported ?? Infinity, op.completeAt),
    });
  }
  const tokens = [...byToken.keys()].sort((a, b) => a - b);
  // Each hole: the grant just before it (written no earlier than...) and just after it (...by).
  const holes: { after: number; before: number }[] = [];
  for (let i = 0; i <= tokens.length; i++) {
    const previous = i > 0 ? tokens[i - 1] : undefined;
    const next = i < tokens.length ? tokens[i] : undefined;
    if (previous !== undefined && next !== undefined && next === previous + 1) continue;
    holes.push({
      after: previous === undefined ? -Infinity : byToken.get(previous)!.written,
      before: next === undefined ? Infinity : byToken.get(next)!.reported,
    });
  }
  return (from, until) => holes.some((hole) => hole.after <= until && hole.before >= from);
}

/** Two round trips at this run's 95th percentile, at least {@link PROGRESS_LATENCY_ALLOWANCE_MS}. */
export function latencyAllowance(ops: Op[]): number {
  const trips = ops
    .filter((op) => op.f !== 'acquire' && op.result === 'ok' && op.completeAt !== null)
    .map((op) => op.completeAt! - op.invokeAt)
    .sort((a, b) => a - b);
  const p95 =
    trips.length === 0 ? 0 : trips[Math.min(trips.length - 1, Math.floor(trips.length * 0.95))];
  return Math.max(PROGRESS_LATENCY_ALLOWANCE_MS, 2 * p95);
}
