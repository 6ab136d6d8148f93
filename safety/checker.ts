// Checks a run's history against the lock's invariants. Every check is conservative: it
// reports a violation only when the recorded times prove one (an op that completed before
// another was invoked certainly happened first), never on a mere overlap of uncertainty.
import type { Op } from './history.js';

/** A fault the harness injected, as the orchestrator recorded it. */
export type Fault =
  /** A holder stopped with SIGSTOP inside its critical section (after its claim), then SIGCONT. */
  | { kind: 'pause'; process: string; owner: string; token: number; at: number; until: number }
  /** A holder killed with SIGKILL inside its critical section. */
  | { kind: 'kill'; process: string; owner: string; token: number; at: number }
  /** DynamoDB Local stopped at `at` and answering again at `until`. */
  | { kind: 'db-restart'; at: number; until: number }
  /** A client run with its clock offset by `offsetMs`. */
  | { kind: 'clock-skew'; process: string; offsetMs: number };

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
  | 'stale-release';

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
}

/** Counts for the summary table. */
export interface Figures {
  processes: number;
  ops: number;
  grants: number;
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
  /**
   * Grants to clients with a skewed clock that took over a lease still running by the real
   * clock: the lease alone no longer excluded anyone, and only fencing kept the register safe.
   */
  skewedTakeovers: number;
  faults: Partial<Record<FaultKind, number>>;
  /** Longest time from a fault to the next grant, in ms. */
  maxRecoveryMs: number | null;
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
  const grants = collectGrants(input.ops, violations);
  const register = input.register ?? { value: 0, log: [] };

  const registerFigures = checkRegister(input.ops, register, violations);
  checkAcceptedTokens(input.ops, register, violations);
  checkGrantTokens(grants, violations);
  const skewedTakeovers = checkMutualExclusion(input.ops, grants, violations);
  const late = checkLateWrites(input.ops, input.faults, register, violations);
  const maxRecoveryMs = checkRecovery(grants, input, violations);
  checkRetries(input.ops, grants, violations);
  checkStaleReleases(input.ops, grants, violations);

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
      claimsRefused: input.ops.filter((op) => op.f === 'claim' && op.result === 'fail').length,
      ...registerFigures,
      registerValue: register.value,
      ...late,
      skewedTakeovers,
      faults,
      maxRecoveryMs,
      violations: violations.length,
    },
  };
}

/** Grants from acquires that returned one, and from acquires whose response was lost. */
function collectGrants(ops: Op[], violations: Violation[]): GrantRecord[] {
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
        check: 'grant-tokens-increase',
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
  const releaseStart = new Map<string, number>();
  for (const op of ops) {
    if (op.f !== 'release') continue;
    const key = `${op.owner}|${op.token}`;
    releaseStart.set(key, Math.min(releaseStart.get(key) ?? Infinity, op.invokeAt));
  }
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

/** After each fault, someone else holds the lock again within one lease plus the bound. */
function checkRecovery(grants: GrantRecord[], input: CheckInput, violations: Violation[]) {
  let max: number | null = null;
  for (const fault of input.faults) {
    if (fault.kind === 'clock-skew') continue;
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
function checkRetries(ops: Op[], grants: GrantRecord[], violations: Violation[]) {
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
      const offset = lost.clockOffsetMs ?? 0;
      // Still current: unexpired on the owner's own clock, and nobody else was granted since.
      const current =
        done(retry) + offset < (lost.hidden.expiresAt ?? 0) &&
        !grants.some(
          (g) =>
            g.owner !== lost.owner && g.token > lost.hidden!.token! && g.invokeAt < done(retry),
        );
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
