// Checks a run's history against the lock's invariants. Every check is conservative: it
// reports a violation only when the recorded times prove one (an op that completed before
// another was invoked certainly happened first), never on a mere overlap of uncertainty.
import type { Op } from './history.js';
import { checkProgress } from './progress.js';

/** A fault the harness injected, as the orchestrator recorded it. */
export type Fault =
  /** A holder stopped with SIGSTOP inside its critical section (after its claim), then SIGCONT. */
  | { kind: 'pause'; process: string; owner: string; token: number; at: number; until: number }
  /** A holder killed with SIGKILL inside its critical section. */
  | { kind: 'kill'; process: string; owner: string; token: number; at: number }
  /** DynamoDB Local stopped at `at` and answering again at `until`. */
  | { kind: 'db-restart'; at: number; until: number }
  /** A client run with its clock offset by `offsetMs`. */
  | { kind: 'clock-skew'; process: string; offsetMs: number }
  /** A caller killed with SIGKILL while its acquire (`owner`) waited for the lock. */
  | { kind: 'kill-waiter'; process: string; owner: string; at: number }
  /** A caller stopped with SIGSTOP while its acquire waited, past its deadline, then SIGCONT. */
  | { kind: 'pause-waiter'; process: string; owner: string; at: number; until: number }
  /** The lock's item deleted (only while its lock was free, as TTL would), sent at `at`, done by `until`. */
  | { kind: 'delete-item'; at: number; until: number };

export type FaultKind = Fault['kind'] | 'lost-response';

/** The register item at the end of the run: its value and the token of every write applied, in order. */
export interface RegisterState {
  value: number;
  log: number[];
}

export type CheckName =
  | 'register-matches-writes'
  | 'accepted-tokens-monotonic'
  | 'grant-tokens-increase'
  | 'mutual-exclusion'
  | 'late-writes-refused'
  | 'recovery'
  | 'idempotent-retry'
  | 'stale-release'
  | 'at-most-n-permits'
  | 'permit-tokens-unique'
  | 'one-permit-per-owner'
  | 'progress';

export interface Violation {
  check: CheckName;
  message: string;
}

export interface CheckInput {
  ops: Op[];
  /** `null` when the register item does not exist (nothing was ever claimed). */
  register: RegisterState | null;
  faults: Fault[];
  leaseMs: number;
  /** How long past one lease a fault may keep the lock from being granted again. */
  recoveryBoundMs: number;
  /** The progress check's stated bound. @default PROGRESS_BOUND_MS */
  progressBoundMs?: number;
  /** The progress check's latency allowance. @default measured from the run */
  progressLatencyMs?: number;
  /**
   * The semaphore's number of permits when the history is the semaphore workload's (one
   * semaphore, no register); absent for the lock workload.
   */
  permits?: number;
}

/** Counts for the summary table. */
export interface Figures {
  processes: number;
  ops: number;
  grants: number;
  /** Acquires refused (the lock, or every permit, held). */
  acquiresRefused: number;
  claimsRefused: number;
  writesAccepted: number;
  writesRefused: number;
  writesIndeterminate: number;
  /** Indeterminate writes that the register's log proves were applied. */
  indeterminateApplied: number;
  registerValue: number;
  /** Late writes of a paused holder refused after a newer holder had claimed the register. */
  lateWritesRefused: number;
  /** Pauses whose late write came before any newer holder touched the register (nothing to refuse). */
  pausesWithoutTakeover: number;
  /** Pauses after which the holder's release found its grant gone: taken over while it was stopped. */
  pausedGrantsTakenOver: number;
  /**
   * Grants to clients with a skewed clock that took over a lease still running by the real
   * clock: the lease alone no longer excluded anyone, and only fencing kept the register safe.
   */
  skewedTakeovers: number;
  /** The semaphore's N (semaphore workload only). */
  permits: number | null;
  /** The most permits the recorded times prove were held at one instant (semaphore only). */
  maxPermitsHeld: number | null;
  faults: Partial<Record<FaultKind, number>>;
  /** Longest time from a fault to the next grant, in ms. */
  maxRecoveryMs: number | null;
  /** Longest stretch the lock was free and continuously asked for (lock workload only), in ms. */
  progressWorstGapMs: number | null;
  /** The bound the progress check held it to: the stated bound plus the latency allowance. */
  progressBoundMs: number | null;
  /** Try-locks refused while the lock was certainly free (behind a live waiter, or a bug). */
  tryLocksRefusedFree: number;
  /** Waiter faults that hit an acquire in flight: killed mid-wait. */
  waitersKilled: number;
  /** ...and stopped mid-wait until past its deadline. */
  waitersPausedPastDeadline: number;
  violations: number;
}

export interface CheckReport {
  violations: Violation[];
  figures: Figures;
}

/** A grant as the lock table wrote it: one per token, whichever attempts reported it. */
interface GrantRecord {
  token: number;
  owner: string;
  process: string;
  clockOffsetMs: number;
  /** The write happened at or after this... */
  invokeAt: number;
  /** ...and at or before this. */
  completeAt: number;
  expiresAt: number;
}

const done = (op: Op): number => op.completeAt ?? Number.POSITIVE_INFINITY;

/**
 * Runs every check on one run and counts its figures.
 *
 * @example
 * const { violations, figures } = checkHistory({
 *   ops: readHistory(files), register, faults, leaseMs: 1_000, recoveryBoundMs: 1_000,
 * });
 */
export function checkHistory(input: CheckInput): CheckReport {
  const violations: Violation[] = [];
  const semaphore = input.permits !== undefined;
  const grants = collectGrants(
    input.ops,
    violations,
    semaphore ? 'permit-tokens-unique' : 'grant-tokens-increase',
  );
  const register = input.register ?? { value: 0, log: [] };

  const registerFigures = checkRegister(input.ops, register, violations);
  checkAcceptedTokens(input.ops, register, violations);
  checkGrantTokens(grants, violations);
  const exclusion =
    input.permits === undefined
      ? { skewedTakeovers: checkMutualExclusion(input.ops, grants, violations), maxHeld: null }
      : checkPermits(input.ops, grants, input.permits, violations);
  // A semaphore's holders write nothing to the register: no late write to refuse.
  const late = semaphore
    ? { lateWritesRefused: 0, pausesWithoutTakeover: 0 }
    : checkLateWrites(input.ops, input.faults, register, violations);
  const maxRecoveryMs = checkRecovery(grants, input, violations);
  // The waiting design is a lock's: a semaphore's waiters are not part of it.
  const progress = semaphore
    ? undefined
    : checkProgress({
        ops: input.ops,
        faults: input.faults,
        leaseMs: input.leaseMs,
        ...(input.progressBoundMs === undefined ? {} : { boundMs: input.progressBoundMs }),
        ...(input.progressLatencyMs === undefined ? {} : { latencyMs: input.progressLatencyMs }),
      });
  if (progress) violations.push(...progress.violations);
  checkRetries(input.ops, grants, semaphore, violations);
  // A permit's release proves nothing stale by a newer token alone (N permits run side by
  // side), and which permit an expired one's replacement evicted is not recorded.
  if (!semaphore) checkStaleReleases(input.ops, grants, violations);

  const faults: Partial<Record<FaultKind, number>> = {};
  for (const fault of input.faults) faults[fault.kind] = (faults[fault.kind] ?? 0) + 1;
  const lost = input.ops.filter((op) => op.hidden !== undefined).length;
  if (lost > 0) faults['lost-response'] = lost;

  return {
    violations,
    figures: {
      processes: new Set(input.ops.map((op) => op.process)).size,
      ops: input.ops.length,
      grants: grants.length,
      acquiresRefused: input.ops.filter((op) => op.f === 'acquire' && op.result === 'fail').length,
      claimsRefused: input.ops.filter((op) => op.f === 'claim' && op.result === 'fail').length,
      ...registerFigures,
      registerValue: register.value,
      ...late,
      pausedGrantsTakenOver: countPausedGrantsTakenOver(input.ops, input.faults),
      skewedTakeovers: exclusion.skewedTakeovers,
      permits: input.permits ?? null,
      maxPermitsHeld: exclusion.maxHeld,
      faults,
      maxRecoveryMs,
      progressWorstGapMs: progress?.worstGapMs ?? null,
      progressBoundMs: progress?.boundMs ?? null,
      tryLocksRefusedFree: progress?.tryLocksRefusedFree ?? 0,
      ...countWaiterFaults(input.ops, input.faults),
      violations: violations.length,
    },
  };
}

/**
 * Grants from acquires that returned one, and from acquires whose response was lost; one token
 * granted to two owners is reported under `duplicate`.
 */
function collectGrants(ops: Op[], violations: Violation[], duplicate: CheckName): GrantRecord[] {
  const byToken = new Map<number, GrantRecord>();
  for (const op of ops) {
    if (op.f !== 'acquire' || op.completeAt === null) continue;
    const token = op.result === 'ok' ? op.token : op.hidden?.token;
    const expiresAt = op.result === 'ok' ? op.expiresAt : op.hidden?.expiresAt;
    if (token === undefined || expiresAt === undefined) continue;
    const invokeAt = Math.min(op.since ?? op.invokeAt, op.invokeAt);
    const seen = byToken.get(token);
    if (!seen) {
      byToken.set(token, {
        token,
        owner: op.owner,
        process: op.process,
        clockOffsetMs: op.clockOffsetMs ?? 0,
        invokeAt,
        completeAt: op.completeAt,
        expiresAt,
      });
    } else if (seen.owner !== op.owner) {
      violations.push({
        check: duplicate,
        message: `token ${token} was granted to both ${seen.owner} and ${op.owner}`,
      });
    } else {
      // A retry by the same owner got the same grant back: it was written by the earliest attempt.
      seen.invokeAt = Math.min(seen.invokeAt, invokeAt);
      seen.completeAt = Math.min(seen.completeAt, op.completeAt);
    }
  }
  return [...byToken.values()];
}

/** Nothing lost, nothing applied twice, nothing invented; value = acknowledged + proven applied. */
function checkRegister(ops: Op[], register: RegisterState, violations: Violation[]) {
  const push = (message: string) => violations.push({ check: 'register-matches-writes', message });
  const writes = ops.filter((op) => op.f === 'write');
  const applied = new Map<number, number>();
  for (const token of register.log) applied.set(token, (applied.get(token) ?? 0) + 1);
  for (const [token, count] of applied) {
    if (count > 1) push(`the write with token ${token} was applied ${count} times`);
  }
  if (register.value !== register.log.length) {
    push(`register value ${register.value} != ${register.log.length} writes in its log`);
  }
  const written = new Set(writes.map((op) => op.token));
  for (const token of applied.keys()) {
    if (!written.has(token)) push(`the register holds a write with token ${token} nobody sent`);
  }
  let accepted = 0;
  let refused = 0;
  let indeterminate = 0;
  let indeterminateApplied = 0;
  for (const op of writes) {
    const inLog = op.token !== undefined && applied.has(op.token);
    if (op.result === 'ok') {
      accepted++;
      if (!inLog) push(`acknowledged write ${op.id} (token ${op.token}) is missing: lost update`);
    } else if (op.result === 'fail') {
      refused++;
      if (inLog) push(`refused write ${op.id} (token ${op.token}) was applied`);
    } else {
      indeterminate++;
      if (inLog) indeterminateApplied++;
      else if (op.hidden?.applied)
        push(`write ${op.id} was applied (response lost) but is missing`);
    }
  }
  if (register.value !== accepted + indeterminateApplied) {
    push(
      `register value ${register.value} != ${accepted} acknowledged writes + ` +
        `${indeterminateApplied} indeterminate ones proven applied`,
    );
  }
  return {
    writesAccepted: accepted,
    writesRefused: refused,
    writesIndeterminate: indeterminate,
    indeterminateApplied,
  };
}

/**
 * Among ops the register accepted (claims and writes), one that completed before another began
 * never carries a higher token; and the log of applied writes never steps down.
 */
function checkAcceptedTokens(ops: Op[], register: RegisterState, violations: Violation[]) {
  for (let i = 1; i < register.log.length; i++) {
    if (register.log[i] < register.log[i - 1]) {
      violations.push({
        check: 'accepted-tokens-monotonic',
        message: `the register applied token ${register.log[i]} after ${register.log[i - 1]}`,
      });
    }
  }
  const accepted = ops.filter(
    (op) => (op.f === 'claim' || op.f === 'write') && op.result === 'ok' && op.token !== undefined,
  );
  forEachCertainlyAfter(
    accepted,
    done,
    (op) => op.token!,
    (earlier, later) => {
      if (earlier.token! > later.token!) {
        violations.push({
          check: 'accepted-tokens-monotonic',
          message:
            `${later.f} ${later.id} was accepted with token ${later.token} after ` +
            `${earlier.f} ${earlier.id} had been accepted with token ${earlier.token}`,
        });
      }
    },
  );
}

/**
 * Calls `visit(earlier, later)` for each item, with `earlier` the item of highest key among
 * those that completed strictly before `later` was invoked (so certainly happened first).
 */
function forEachCertainlyAfter<T extends { invokeAt: number }>(
  items: T[],
  completeOf: (item: T) => number,
  keyOf: (item: T) => number,
  visit: (earlier: T, later: T) => void,
) {
  const byCompletion = [...items].sort((a, b) => completeOf(a) - completeOf(b));
  const byInvoke = [...items].sort((a, b) => a.invokeAt - b.invokeAt);
  let best: T | undefined;
  let next = 0;
  for (const later of byInvoke) {
    while (next < byCompletion.length && completeOf(byCompletion[next]) < later.invokeAt) {
      const candidate = byCompletion[next++];
      if (!best || keyOf(candidate) > keyOf(best)) best = candidate;
    }
    if (best) visit(best, later);
  }
}

/** A grant written after another certainly was carries a strictly higher token. */
function checkGrantTokens(grants: GrantRecord[], violations: Violation[]) {
  forEachCertainlyAfter(
    grants,
    (g) => g.completeAt,
    (g) => g.token,
    (earlier, later) => {
      if (earlier.token >= later.token) {
        violations.push({
          check: 'grant-tokens-increase',
          message:
            `grant to ${later.owner} (token ${later.token}) came after the grant to ` +
            `${earlier.owner} (token ${earlier.token})`,
        });
      }
    },
  );
}

/**
 * No grant was written while an earlier grant's lease was certainly unexpired and not yet
 * released. Only clients with correct clocks count: a skewed clock voids its own lease promise
 * (fencing, not the lease, protects the register from it).
 */
function checkMutualExclusion(ops: Op[], grants: GrantRecord[], violations: Violation[]) {
  const releaseStart = firstReleases(ops);
  // A grant by a skewed client may take over an unexpired lease (its clock says it ended):
  // the lease it took over ends there, and only fencing protects the resource from then on.
  const skewedStarts = grants
    .filter((g) => g.clockOffsetMs !== 0)
    .map((g) => ({ token: g.token, invokeAt: g.invokeAt, completeAt: g.completeAt }));
  let skewedTakeovers = 0;
  const trusted = grants
    .filter((g) => g.clockOffsetMs === 0)
    .sort((a, b) => a.invokeAt - b.invokeAt);
  for (const first of trusted) {
    const leaseEnd = Math.min(
      first.expiresAt,
      releaseStart.get(`${first.owner}|${first.token}`) ?? Infinity,
    );
    let endsBy = leaseEnd;
    for (const skewed of skewedStarts) {
      if (skewed.token > first.token) endsBy = Math.min(endsBy, skewed.invokeAt);
      if (skewed.invokeAt > first.completeAt && skewed.completeAt < leaseEnd) skewedTakeovers++;
    }
    for (const second of trusted) {
      if (second === first || second.invokeAt <= first.completeAt) continue;
      if (second.completeAt < endsBy) {
        violations.push({
          check: 'mutual-exclusion',
          message:
            `${second.owner} was granted token ${second.token} by ${second.completeAt} while ` +
            `${first.owner}'s lease (token ${first.token}) ran until ${first.expiresAt} unreleased`,
        });
      }
    }
  }
  return skewedTakeovers;
}

/** A permit the recorded times prove was held, from `from` until (not including) `until`. */
interface HeldPermit {
  grant: GrantRecord;
  from: number;
  until: number;
}

/**
 * The semaphore's invariants, on the permits the recorded times prove were held: at no
 * instant more than `permits` of them (at-most-n-permits), and never two for one owner, which
 * a retried acquire would cause by taking a second permit instead of getting its own back
 * (one-permit-per-owner).
 */
function checkPermits(ops: Op[], grants: GrantRecord[], permits: number, violations: Violation[]) {
  const { held, skewedTakeovers } = heldPermits(ops, grants);
  const maxHeld = checkPermitLimit(held, permits, violations);
  checkOnePermitPerOwner(held, violations);
  return { skewedTakeovers, maxHeld };
}

/**
 * When each permit was certainly held. It begins at the earliest completion of an acquire that
 * returned it (or whose lost response carried it): the write is done by then. Starting at the
 * invocation instead would count a permit that may not exist yet, so an overlap of uncertainty
 * would pass for a violation; and an acquire whose outcome is unknown (a 5xx, DynamoDB down)
 * proves no permit at all. It ends at the first invocation of its owner's release of it, or at
 * its lease end (`expiresAt`, from which anyone may replace it), whichever comes first.
 *
 * Skew, as in the mutual-exclusion check: a lease is measured by the clock of whoever writes
 * the next grant, so a client whose clock is off voids its own lease promise. Its permits are
 * not counted (a slow client's lease ends before it began, by the real clock), and a permit it
 * was granted after a counted one may have replaced that one early: the counted permit then
 * ends where that grant began. Unlike a lock's check, only a permit that the skewed clock could
 * have read as expired is ended so (its `expiresAt` at most that grant's completion plus the
 * offset): the semaphore's condition compares that clock with the permit's `expiresAt`, and a
 * slow clock then ends none, so the check keeps its power beside it.
 */
function heldPermits(ops: Op[], grants: GrantRecord[]) {
  const releaseStart = firstReleases(ops);
  const skewed = grants.filter((g) => g.clockOffsetMs !== 0);
  const takeovers = new Set<GrantRecord>();
  const held: HeldPermit[] = [];
  for (const grant of grants) {
    if (grant.clockOffsetMs !== 0) continue;
    const leaseEnd = Math.min(
      grant.expiresAt,
      releaseStart.get(`${grant.owner}|${grant.token}`) ?? Infinity,
    );
    let until = leaseEnd;
    for (const other of skewed) {
      const couldReplace =
        other.token > grant.token && grant.expiresAt <= other.completeAt + other.clockOffsetMs;
      if (!couldReplace) continue;
      until = Math.min(until, other.invokeAt);
      if (other.invokeAt > grant.completeAt && other.completeAt < leaseEnd) takeovers.add(other);
    }
    if (grant.completeAt < until) held.push({ grant, from: grant.completeAt, until });
  }
  return { held, skewedTakeovers: takeovers.size };
}

/** The first invocation of a release of each grant, keyed `owner|token`. */
function firstReleases(ops: Op[]): Map<string, number> {
  const releaseStart = new Map<string, number>();
  for (const op of ops) {
    if (op.f !== 'release') continue;
    const key = `${op.owner}|${op.token}`;
    releaseStart.set(key, Math.min(releaseStart.get(key) ?? Infinity, op.invokeAt));
  }
  return releaseStart;
}

const describeHeld = (p: HeldPermit) =>
  `${p.grant.owner} (token ${p.grant.token}, held from ${p.from} until ${p.until})`;

/**
 * Sweeps the held permits in time order and reports each episode in which more than `permits`
 * were held at once, at the instant it began. Returns the most held at one instant.
 */
function checkPermitLimit(held: HeldPermit[], permits: number, violations: Violation[]) {
  // Intervals are half-open: a permit that ends at the instant another begins was released or
  // expired first, so ends sort before starts at the same instant.
  const events = held
    .flatMap((p) => [
      { at: p.from, delta: 1, permit: p },
      { at: p.until, delta: -1, permit: p },
    ])
    .sort((a, b) => a.at - b.at || a.delta - b.delta);
  const active = new Set<HeldPermit>();
  let max = 0;
  let over = false;
  for (const { at, delta, permit } of events) {
    if (delta < 0) {
      active.delete(permit);
      over &&= active.size > permits;
      continue;
    }
    active.add(permit);
    max = Math.max(max, active.size);
    if (active.size > permits && !over) {
      over = true;
      violations.push({
        check: 'at-most-n-permits',
        message:
          `at ${at}, ${active.size} permits of ${permits} were held: ` +
          [...active].map(describeHeld).join(', '),
      });
    }
  }
  return max;
}

/** No owner holds two permits at one instant. */
function checkOnePermitPerOwner(held: HeldPermit[], violations: Violation[]) {
  const byOwner = new Map<string, HeldPermit[]>();
  for (const p of held) byOwner.set(p.grant.owner, [...(byOwner.get(p.grant.owner) ?? []), p]);
  for (const [owner, permits] of byOwner) {
    permits.sort((a, b) => a.from - b.from);
    let longest = permits[0];
    for (const next of permits.slice(1)) {
      if (next.from < longest.until) {
        violations.push({
          check: 'one-permit-per-owner',
          message:
            `at ${next.from}, ${owner} held two permits: ` +
            `${describeHeld(longest)} and ${describeHeld(next)}`,
        });
      }
      if (next.until > longest.until) longest = next;
    }
  }
}

/** A paused holder's write after SIGCONT is refused once a newer holder has touched the register. */
function checkLateWrites(
  ops: Op[],
  faults: Fault[],
  register: RegisterState,
  violations: Violation[],
) {
  const applied = new Set(register.log);
  let lateWritesRefused = 0;
  let pausesWithoutTakeover = 0;
  const touches = ops.filter(
    (op) => (op.f === 'claim' || op.f === 'write') && op.result === 'ok' && op.completeAt !== null,
  );
  for (const fault of faults) {
    if (fault.kind !== 'pause' && fault.kind !== 'kill') continue;
    const late = ops.filter(
      (op) =>
        op.f === 'write' &&
        op.process === fault.process &&
        op.token === fault.token &&
        op.invokeAt >= fault.at,
    );
    if (fault.kind === 'kill') {
      for (const op of late) {
        violations.push({
          check: 'late-writes-refused',
          message: `${fault.process} wrote (${op.id}) after it was killed: the kill missed`,
        });
      }
      // Killed after its claim and before its write: its token must never reach the register.
      const wroteBefore = ops.some(
        (op) => op.f === 'write' && op.token === fault.token && op.invokeAt < fault.at,
      );
      if (!wroteBefore && applied.has(fault.token)) {
        violations.push({
          check: 'late-writes-refused',
          message: `killed ${fault.owner}'s token ${fault.token} reached the register`,
        });
      }
      continue;
    }
    let takenOver = false;
    for (const op of late) {
      const newer = touches.find((t) => t.token! > fault.token && done(t) < op.invokeAt);
      if (!newer) continue;
      takenOver = true;
      if (op.result === 'fail') lateWritesRefused++;
      else if (op.result === 'ok' || applied.has(op.token!)) {
        violations.push({
          check: 'late-writes-refused',
          message:
            `late write ${op.id} of paused ${fault.owner} (token ${fault.token}) was applied ` +
            `after ${newer.owner} had touched the register with token ${newer.token}`,
        });
      }
      // An indeterminate late write that the register never applied (DynamoDB was down) is fine.
    }
    if (!takenOver) pausesWithoutTakeover++;
  }
  return { lateWritesRefused, pausesWithoutTakeover };
}

/** Waiter faults that really hit a waiting acquire, by the victim's own history. */
function countWaiterFaults(ops: Op[], faults: Fault[]) {
  let waitersKilled = 0;
  let waitersPausedPastDeadline = 0;
  for (const fault of faults) {
    if (fault.kind !== 'kill-waiter' && fault.kind !== 'pause-waiter') continue;
    // The owner's last attempt begun before the fault (an indeterminate one is retried).
    const call = ops.findLast(
      (op) =>
        op.f === 'acquire' &&
        op.process === fault.process &&
        op.owner === fault.owner &&
        op.invokeAt <= fault.at &&
        (op.waitMs ?? 0) > 0,
    );
    if (!call) continue;
    if (fault.kind === 'kill-waiter' && call.completeAt === null) waitersKilled++;
    if (
      fault.kind === 'pause-waiter' &&
      done(call) >= fault.until &&
      call.invokeAt + call.waitMs! < fault.until
    )
      waitersPausedPastDeadline++;
  }
  return { waitersKilled, waitersPausedPastDeadline };
}

function countPausedGrantsTakenOver(ops: Op[], faults: Fault[]): number {
  return faults.filter(
    (fault) =>
      fault.kind === 'pause' &&
      ops.some(
        (op) =>
          op.f === 'release' &&
          op.owner === fault.owner &&
          op.token === fault.token &&
          op.result === 'ok' &&
          op.released === false,
      ),
  ).length;
}

/** After each fault, someone else holds the lock again within one lease plus the bound. */
function checkRecovery(grants: GrantRecord[], input: CheckInput, violations: Violation[]) {
  let max: number | null = null;
  for (const fault of input.faults) {
    // A waiter's fault or a deletion frees nothing held: the progress check covers them.
    if (fault.kind !== 'pause' && fault.kind !== 'kill' && fault.kind !== 'db-restart') continue;
    let from = fault.kind === 'db-restart' ? fault.until : fault.at;
    // While DynamoDB is down nobody can be granted anything: an outage that begins before the
    // lock was due back moves the deadline to the end of that outage.
    for (let moved = true; moved;) {
      moved = false;
      for (const outage of input.faults) {
        if (outage.kind !== 'db-restart') continue;
        if (outage.at <= from + input.leaseMs + input.recoveryBoundMs && outage.until > from) {
          from = outage.until;
          moved = true;
        }
      }
    }
    const next = grants
      .filter((g) => g.completeAt > from && (fault.kind === 'db-restart' || g.token > fault.token))
      .sort((a, b) => a.completeAt - b.completeAt)[0];
    const took = next ? next.completeAt - from : Infinity;
    if (took > input.leaseMs + input.recoveryBoundMs) {
      violations.push({
        check: 'recovery',
        message:
          `after the ${fault.kind} at ${from} the lock was ` +
          (next ? `granted again only ${took} ms later` : 'never granted again') +
          ` (bound ${input.leaseMs} + ${input.recoveryBoundMs} ms)`,
      });
    }
    if (Number.isFinite(took)) max = Math.max(max ?? 0, took);
  }
  return max;
}

/**
 * An acquire retried by its owner after a lost response gets the same grant back while that
 * grant is current; a release retried after a lost response changes nothing.
 */
function checkRetries(
  ops: Op[],
  grants: GrantRecord[],
  semaphore: boolean,
  violations: Violation[],
) {
  const fastestClockMs = Math.max(0, ...ops.map((op) => op.clockOffsetMs ?? 0));
  for (const lost of ops) {
    if (lost.hidden === undefined || lost.completeAt === null) continue;
    const retry = ops.find(
      (op) =>
        op.f === lost.f &&
        op.process === lost.process &&
        op.owner === lost.owner &&
        op.invokeAt >= lost.completeAt! &&
        op.completeAt !== null,
    );
    if (!retry) continue;
    if (lost.f === 'acquire' && lost.hidden.token !== undefined) {
      const current = semaphore
        ? permitStillCurrent(lost, retry, fastestClockMs)
        : lockStillCurrent(lost, retry, grants);
      const got = retry.result === 'ok' ? retry.token : retry.hidden?.token;
      if (current && retry.result !== 'info' && got !== lost.hidden.token) {
        violations.push({
          check: 'idempotent-retry',
          message:
            `${lost.owner}'s retried acquire ${retry.id} got ` +
            (retry.result === 'ok' ? `token ${got}` : `'${retry.error}'`) +
            ` instead of its own grant ${lost.hidden.token}`,
        });
      }
    }
    if (lost.f === 'release' && lost.hidden.released && retry.result === 'ok' && retry.released) {
      violations.push({
        check: 'idempotent-retry',
        message: `${lost.owner}'s release was applied twice (${lost.id}, ${retry.id})`,
      });
    }
  }
}

/** Unexpired on the owner's own clock, and nobody else was granted the lock since. */
function lockStillCurrent(lost: Op, retry: Op, grants: GrantRecord[]): boolean {
  const offset = lost.clockOffsetMs ?? 0;
  return (
    done(retry) + offset < (lost.hidden?.expiresAt ?? 0) &&
    !grants.some(
      (g) => g.owner !== lost.owner && g.token > lost.hidden!.token! && g.invokeAt < done(retry),
    )
  );
}

/**
 * Other permits granted since do not end this one: only its lease end does, after which any
 * client may replace it. So it is current while unexpired on every client's clock (the
 * owner's, which decides whether to give it back, included): the fastest one bounds them all.
 */
function permitStillCurrent(lost: Op, retry: Op, fastestClockMs: number): boolean {
  return done(retry) + fastestClockMs < (lost.hidden?.expiresAt ?? 0);
}

/** A release that names a grant already superseded must change nothing. */
function checkStaleReleases(ops: Op[], grants: GrantRecord[], violations: Violation[]) {
  for (const op of ops) {
    if (op.f !== 'release' || op.result !== 'ok' || !op.released) continue;
    const newer = grants.find((g) => g.token > op.token! && g.completeAt < op.invokeAt);
    if (newer) {
      violations.push({
        check: 'stale-release',
        message: `${op.owner} released token ${op.token} after ${newer.owner} got ${newer.token}`,
      });
    }
  }
}
