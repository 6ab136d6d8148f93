import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CheckInput, checkHistory, type Fault } from '../../safety/checker.js';
import { type Op, readHistory } from '../../safety/history.js';
import { latencyAllowance, PROGRESS_LATENCY_ALLOWANCE_MS } from '../../safety/progress.js';

// Hand-made histories: each check must pass a clean one and catch the bug it exists for.
// Times are small integers (ms); the lease is 100 ms and the recovery bound 50 ms.
const LEASE = 100;
let n = 0;
const op = (fields: Partial<Op> & Pick<Op, 'f' | 'owner' | 'invokeAt'>): Op => ({
  id: `op${++n}`,
  process: fields.owner.split(':')[0],
  completeAt: fields.invokeAt + 1,
  result: 'ok',
  clockOffsetMs: 0,
  ...fields,
});

/** One full iteration: acquire at t, claim, write, release, all ok. */
function cycle(owner: string, token: number, t: number, value: number): Op[] {
  return [
    op({ f: 'acquire', owner, invokeAt: t, token, expiresAt: t + LEASE, since: t }),
    op({ f: 'claim', owner, invokeAt: t + 2, token, value }),
    op({ f: 'write', owner, invokeAt: t + 4, token }),
    op({ f: 'release', owner, invokeAt: t + 6, token, released: true }),
  ];
}

const check = (input: Partial<CheckInput> & Pick<CheckInput, 'ops'>) =>
  checkHistory({
    register: null,
    faults: [],
    leaseMs: LEASE,
    recoveryBoundMs: 50,
    ...input,
  });
const checks = (input: Partial<CheckInput> & Pick<CheckInput, 'ops'>) =>
  check(input).violations.map((v) => v.check);

const clean = () => [
  ...cycle('a:1', 10, 0, 0),
  ...cycle('b:1', 11, 10, 1),
  ...cycle('a:2', 12, 20, 2),
];
const cleanRegister = { value: 3, log: [10, 11, 12] };

describe('the safety checker', () => {
  it('passes a clean history and counts its figures', () => {
    const report = check({ ops: clean(), register: cleanRegister });
    expect(report.violations).toEqual([]);
    expect(report.figures).toMatchObject({
      processes: 2,
      ops: 12,
      grants: 3,
      writesAccepted: 3,
      writesRefused: 0,
      registerValue: 3,
      violations: 0,
    });
  });

  describe('register-matches-writes', () => {
    it('catches an acknowledged write missing from the register (a lost update)', () => {
      expect(checks({ ops: clean(), register: { value: 2, log: [10, 12] } })).toContain(
        'register-matches-writes',
      );
    });

    it('catches a write applied twice', () => {
      expect(checks({ ops: clean(), register: { value: 4, log: [10, 11, 11, 12] } })).toContain(
        'register-matches-writes',
      );
    });

    it('catches a write nobody sent, and a refused write that landed', () => {
      const ops = clean();
      ops[10].result = 'fail';
      const messages = check({ ops, register: { value: 4, log: [10, 11, 12, 99] } }).violations;
      expect(messages.map((v) => v.message).join('\n')).toMatch(/nobody sent[\s\S]*refused write/);
    });

    it('resolves indeterminate writes from the register log', () => {
      const ops = clean();
      ops[6].result = 'info'; // b:1's write: unknown to b, applied per the log
      ops[10].result = 'info'; // a:2's write: unknown, not applied
      const report = check({ ops, register: { value: 2, log: [10, 11] } });
      expect(report.violations).toEqual([]);
      expect(report.figures).toMatchObject({ writesIndeterminate: 2, indeterminateApplied: 1 });
    });

    it('catches a write whose lost response said applied but that is missing', () => {
      const ops = clean();
      Object.assign(ops[10], { result: 'info', hidden: { applied: true } });
      expect(checks({ ops, register: { value: 2, log: [10, 11] } })).toEqual([
        'register-matches-writes',
      ]);
    });
  });

  describe('accepted-tokens-monotonic', () => {
    it('catches the register applying a lower token after a higher one', () => {
      const ops = clean();
      expect(checks({ ops, register: { value: 3, log: [10, 12, 11] } })).toContain(
        'accepted-tokens-monotonic',
      );
    });

    it('catches a write accepted with a token below one already claimed', () => {
      // a:1 claims with 10, stalls; b:1 claims with 11 and writes; a:1's write is then accepted.
      const ops = [
        op({ f: 'acquire', owner: 'a:1', invokeAt: 0, token: 10, expiresAt: 100 }),
        op({ f: 'claim', owner: 'a:1', invokeAt: 2, token: 10, value: 0 }),
        op({ f: 'acquire', owner: 'b:1', invokeAt: 150, token: 11, expiresAt: 250 }),
        op({ f: 'claim', owner: 'b:1', invokeAt: 152, token: 11, value: 0 }),
        op({ f: 'write', owner: 'b:1', invokeAt: 154, token: 11 }),
        op({ f: 'write', owner: 'a:1', invokeAt: 160, token: 10 }),
      ];
      expect(checks({ ops, register: { value: 2, log: [11, 10] } })).toContain(
        'accepted-tokens-monotonic',
      );
    });
  });

  describe('grant-tokens-increase', () => {
    it('catches a later grant with a lower token', () => {
      const ops = [...cycle('a:1', 10, 0, 0), ...cycle('b:1', 9, 10, 1)];
      expect(checks({ ops, register: { value: 2, log: [10, 9] } })).toContain(
        'grant-tokens-increase',
      );
    });

    it('catches one token granted to two owners', () => {
      const ops = [...cycle('a:1', 10, 0, 0), ...cycle('b:1', 10, 10, 1)];
      expect(checks({ ops })).toContain('grant-tokens-increase');
    });

    it('accepts the same grant returned to a retry by the same owner', () => {
      const ops = [
        op({
          f: 'acquire',
          owner: 'a:1',
          invokeAt: 0,
          result: 'info',
          hidden: { token: 10, expiresAt: 100 },
        }),
        op({ f: 'acquire', owner: 'a:1', invokeAt: 5, since: 0, token: 10, expiresAt: 100 }),
      ];
      expect(check({ ops }).violations).toEqual([]);
      expect(check({ ops }).figures.grants).toBe(1);
    });
  });

  describe('mutual-exclusion', () => {
    // a:1 holds token 10 from t=0 until 100 and never releases; b:1 is granted at t=50.
    const overlapping = (skewed: boolean) => [
      op({ f: 'acquire', owner: 'a:1', invokeAt: 0, token: 10, expiresAt: 100 }),
      op({
        f: 'acquire',
        owner: 'b:1',
        invokeAt: 50,
        token: 11,
        expiresAt: 150,
        clockOffsetMs: skewed ? 250 : 0,
      }),
    ];

    it('catches a grant while an earlier unexpired lease was unreleased', () => {
      expect(checks({ ops: overlapping(false) })).toEqual(['mutual-exclusion']);
    });

    it('does not hold a client with a skewed clock to its lease, but counts its takeover', () => {
      const report = check({ ops: overlapping(true) });
      expect(report.violations).toEqual([]);
      expect(report.figures.skewedTakeovers).toBe(1);
    });

    it('accepts a grant after the earlier holder began its release', () => {
      const ops = [
        ...overlapping(false),
        op({ f: 'release', owner: 'a:1', invokeAt: 40, token: 10, released: true }),
      ];
      expect(checks({ ops })).toEqual([]);
    });

    it('accepts a grant after a skewed client took the lease over', () => {
      const ops = [
        op({ f: 'acquire', owner: 'a:1', invokeAt: 0, token: 10, expiresAt: 100 }),
        op({
          f: 'acquire',
          owner: 's:1',
          invokeAt: 20,
          token: 11,
          expiresAt: 400,
          clockOffsetMs: 300,
        }),
        op({ f: 'release', owner: 's:1', invokeAt: 30, token: 11, released: true }),
        op({ f: 'acquire', owner: 'b:1', invokeAt: 50, token: 12, expiresAt: 150 }),
      ];
      expect(checks({ ops })).toEqual([]);
    });
  });

  describe('late-writes-refused', () => {
    const pause: Fault = {
      kind: 'pause',
      process: 'a',
      owner: 'a:1',
      token: 10,
      at: 5,
      until: 200,
    };
    const paused = (late: Partial<Op>) => [
      op({ f: 'acquire', owner: 'a:1', invokeAt: 0, token: 10, expiresAt: 100 }),
      op({ f: 'claim', owner: 'a:1', invokeAt: 2, token: 10, value: 0 }),
      ...cycle('b:1', 11, 110, 0),
      op({ f: 'write', owner: 'a:1', invokeAt: 200, token: 10, ...late }),
    ];

    it('counts a late write refused after a takeover', () => {
      const report = check({
        ops: paused({ result: 'fail', error: 'FencedOut' }),
        register: { value: 1, log: [11] },
        faults: [pause],
      });
      expect(report.violations).toEqual([]);
      expect(report.figures.lateWritesRefused).toBe(1);
    });

    it('catches a late write accepted after a takeover', () => {
      expect(
        checks({
          ops: paused({ result: 'ok' }),
          register: { value: 1, log: [10] },
          faults: [pause],
        }),
      ).toContain('late-writes-refused');
    });

    it('catches an indeterminate late write that the register applied', () => {
      expect(
        checks({
          ops: paused({ result: 'info' }),
          register: { value: 2, log: [11, 10] },
          faults: [pause],
        }),
      ).toContain('late-writes-refused');
    });

    it("catches a killed holder's token reaching the register", () => {
      const kill: Fault = { kind: 'kill', process: 'a', owner: 'a:1', token: 10, at: 5 };
      const ops = [
        op({ f: 'acquire', owner: 'a:1', invokeAt: 0, token: 10, expiresAt: 100 }),
        ...cycle('b:1', 11, 110, 0),
      ];
      expect(checks({ ops, register: { value: 1, log: [11] }, faults: [kill] })).toEqual([]);
      expect(checks({ ops, register: { value: 2, log: [10, 11] }, faults: [kill] })).toContain(
        'late-writes-refused',
      );
    });
  });

  describe('recovery', () => {
    const kill: Fault = { kind: 'kill', process: 'a', owner: 'a:1', token: 10, at: 10 };
    const killed = (regrantAt: number) => [
      op({ f: 'acquire', owner: 'a:1', invokeAt: 0, token: 10, expiresAt: 100 }),
      op({
        f: 'acquire',
        owner: 'b:1',
        invokeAt: regrantAt - 1,
        token: 11,
        expiresAt: regrantAt + 99,
      }),
    ];

    it('accepts a grant within one lease plus the bound after the fault', () => {
      const report = check({ ops: killed(150), faults: [kill] });
      expect(report.violations).toEqual([]);
      expect(report.figures.maxRecoveryMs).toBe(140);
    });

    it('catches a lock not granted again in time', () => {
      expect(checks({ ops: killed(200), faults: [kill] })).toEqual(['recovery']);
    });

    it('catches a lock never granted again', () => {
      expect(checks({ ops: killed(200).slice(0, 1), faults: [kill] })).toEqual(['recovery']);
    });

    it('moves the deadline past a DynamoDB outage that overlaps it', () => {
      const outage: Fault = { kind: 'db-restart', at: 50, until: 300 };
      expect(checks({ ops: killed(350), faults: [kill, outage] })).toEqual([]);
      expect(checks({ ops: killed(460), faults: [kill, outage] })).toEqual([
        'recovery',
        'recovery',
      ]);
    });
  });

  describe('idempotent-retry', () => {
    const lost = op({
      f: 'acquire',
      owner: 'a:1',
      invokeAt: 0,
      result: 'info',
      error: 'LostResponse',
      hidden: { token: 10, expiresAt: 100 },
    });

    it('catches a retried acquire that gets a new grant while its own is current', () => {
      const retry = op({
        f: 'acquire',
        owner: 'a:1',
        invokeAt: 5,
        since: 0,
        token: 11,
        expiresAt: 105,
      });
      expect(checks({ ops: [lost, retry] })).toContain('idempotent-retry');
    });

    it('catches a retried acquire refused as if someone else held the lock', () => {
      const retry = op({
        f: 'acquire',
        owner: 'a:1',
        invokeAt: 5,
        result: 'fail',
        error: 'LockHeld',
      });
      expect(checks({ ops: [lost, retry] })).toEqual(['idempotent-retry']);
    });

    it('catches a release applied twice', () => {
      const ops = [
        op({
          f: 'release',
          owner: 'a:1',
          invokeAt: 0,
          token: 10,
          result: 'info',
          hidden: { released: true },
        }),
        op({ f: 'release', owner: 'a:1', invokeAt: 5, token: 10, released: true }),
      ];
      expect(checks({ ops })).toEqual(['idempotent-retry']);
      ops[1].released = false;
      expect(checks({ ops })).toEqual([]);
    });
  });

  it('catches a stale release that removed a newer grant (stale-release)', () => {
    const ops = [
      op({ f: 'acquire', owner: 'a:1', invokeAt: 0, token: 10, expiresAt: 100 }),
      op({ f: 'acquire', owner: 'b:1', invokeAt: 120, token: 11, expiresAt: 220 }),
      op({ f: 'release', owner: 'a:1', invokeAt: 130, token: 10, released: true }),
    ];
    expect(checks({ ops })).toEqual(['stale-release']);
  });
});

describe('the safety checker on a semaphore of 2 permits', () => {
  const acquire = (owner: string, token: number, t: number, fields: Partial<Op> = {}) =>
    op({ f: 'acquire', owner, invokeAt: t, token, expiresAt: t + LEASE, permits: 2, ...fields });
  const release = (owner: string, token: number, t: number) =>
    op({ f: 'release', owner, invokeAt: t, token, released: true, permits: 2 });
  const checkSemaphore = (ops: Op[]) => check({ ops, permits: 2 });
  const semaphoreChecks = (ops: Op[]) => checkSemaphore(ops).violations.map((v) => v.check);

  // a and b hold from t=1; c is refused; b releases at 30, and c is granted at 40.
  const clean = () => [
    acquire('a:1', 10, 0),
    acquire('b:1', 11, 5),
    op({ f: 'acquire', owner: 'c:1', invokeAt: 10, result: 'fail', error: 'LockHeld' }),
    release('b:1', 11, 30),
    acquire('c:1', 12, 40),
    release('a:1', 10, 50),
    release('c:1', 12, 60),
  ];

  it('passes a clean history and counts its figures', () => {
    const report = checkSemaphore(clean());
    expect(report.violations).toEqual([]);
    expect(report.figures).toMatchObject({
      grants: 3,
      acquiresRefused: 1,
      permits: 2,
      maxPermitsHeld: 2,
      violations: 0,
    });
  });

  describe('at-most-n-permits', () => {
    it('catches a third permit granted while two were held, naming the instant and holders', () => {
      const ops = [acquire('a:1', 10, 0), acquire('b:1', 11, 5), acquire('c:1', 12, 20)];
      const { violations, figures } = checkSemaphore(ops);
      expect(violations).toEqual([
        {
          check: 'at-most-n-permits',
          message:
            'at 21, 3 permits of 2 were held: a:1 (token 10, held from 1 until 100), ' +
            'b:1 (token 11, held from 6 until 105), c:1 (token 12, held from 21 until 120)',
        },
      ]);
      expect(figures.maxPermitsHeld).toBe(3);
    });

    it('reports one violation per episode, not one per grant inside it', () => {
      const ops = [
        acquire('a:1', 10, 0),
        acquire('b:1', 11, 5),
        acquire('c:1', 12, 20),
        release('c:1', 12, 30),
        acquire('d:1', 13, 25),
      ];
      expect(semaphoreChecks(ops)).toEqual(['at-most-n-permits']);
    });

    it('accepts a permit that replaced one whose lease had ended', () => {
      const ops = [acquire('a:1', 10, 0), acquire('b:1', 11, 5), acquire('c:1', 12, 99)];
      expect(semaphoreChecks(ops)).toEqual([]);
    });

    it('does not count a permit from before its acquire completed, nor an unknown outcome', () => {
      const ops = [
        acquire('a:1', 10, 0),
        acquire('b:1', 11, 5),
        release('b:1', 11, 30),
        // Invoked while b held its permit, completed after b began its release: no proof.
        acquire('c:1', 12, 20, { completeAt: 31 }),
        // Maybe written, maybe not: a 5xx proves nothing.
        op({ f: 'acquire', owner: 'd:1', invokeAt: 40, result: 'info', error: 'Unavailable' }),
      ];
      expect(semaphoreChecks(ops)).toEqual([]);
    });

    it('counts a permit whose acquire lost its response, from that acquire completing', () => {
      const ops = [
        acquire('a:1', 10, 0),
        acquire('b:1', 11, 5),
        op({
          f: 'acquire',
          owner: 'c:1',
          invokeAt: 20,
          result: 'info',
          error: 'LostResponse',
          hidden: { token: 12, expiresAt: 120 },
        }),
      ];
      expect(semaphoreChecks(ops)).toEqual(['at-most-n-permits']);
    });

    it('lets a fast client replace a permit its clock reads as expired, and counts it', () => {
      const ops = [
        acquire('a:1', 10, 0),
        acquire('b:1', 11, 5),
        acquire('f:1', 12, 20, { clockOffsetMs: 250, expiresAt: 370 }),
        acquire('c:1', 13, 30),
      ];
      const report = checkSemaphore(ops);
      expect(report.violations).toEqual([]);
      expect(report.figures.skewedTakeovers).toBe(1);
    });

    it('does not let a slow client excuse a third permit: its clock sees nothing expired', () => {
      const ops = [
        acquire('a:1', 10, 0),
        acquire('b:1', 11, 5),
        // Its clock read -230 at t=20, so its own lease ended before it began.
        acquire('s:1', 12, 20, { clockOffsetMs: -250, expiresAt: -130 }),
        acquire('c:1', 13, 30),
      ];
      const report = checkSemaphore(ops);
      expect(report.violations.map((v) => v.check)).toEqual(['at-most-n-permits']);
      expect(report.figures.skewedTakeovers).toBe(0);
    });
  });

  it('catches one token granted to two permits (permit-tokens-unique)', () => {
    const ops = [acquire('a:1', 10, 0), release('a:1', 10, 10), acquire('b:1', 10, 20)];
    expect(semaphoreChecks(ops)).toEqual(['permit-tokens-unique']);
  });

  describe('one-permit-per-owner', () => {
    it('catches a retried acquire that took a second permit beside its own', () => {
      const ops = [
        op({
          f: 'acquire',
          owner: 'a:1',
          invokeAt: 0,
          result: 'info',
          error: 'LockServiceUnavailable',
          hidden: { token: 10, expiresAt: 100 },
        }),
        acquire('a:1', 11, 10, { since: 0 }),
      ];
      expect(semaphoreChecks(ops)).toEqual(['one-permit-per-owner', 'idempotent-retry']);
    });

    it('accepts an owner that took a new permit once its own had expired', () => {
      const ops = [acquire('a:1', 10, 0), acquire('a:1', 11, 100, { since: 0 })];
      expect(semaphoreChecks(ops)).toEqual([]);
    });
  });

  describe('idempotent-retry', () => {
    const lost = op({
      f: 'acquire',
      owner: 'a:1',
      invokeAt: 0,
      result: 'info',
      error: 'LostResponse',
      hidden: { token: 10, expiresAt: 100 },
      permits: 2,
    });

    it('catches a retry refused while its permit was current, though others were granted', () => {
      const ops = [
        lost,
        acquire('b:1', 11, 5),
        op({ f: 'acquire', owner: 'a:1', invokeAt: 20, result: 'fail', error: 'LockHeld' }),
      ];
      expect(semaphoreChecks(ops)).toEqual(['idempotent-retry']);
      // For a lock, b's grant ends a's (the retry is then rightly refused).
      expect(checks({ ops })).not.toContain('idempotent-retry');
    });

    it('excuses a retry after a fast clock could have replaced the permit', () => {
      const ops = [
        lost,
        acquire('f:1', 11, 5, { clockOffsetMs: 250, expiresAt: 355 }),
        op({ f: 'acquire', owner: 'a:1', invokeAt: 20, result: 'fail', error: 'LockHeld' }),
      ];
      expect(semaphoreChecks(ops)).toEqual([]);
    });
  });

  it('counts a paused permit taken over while its holder was stopped', () => {
    const pause: Fault = {
      kind: 'pause',
      process: 'a',
      owner: 'a:1',
      token: 10,
      at: 5,
      until: 200,
    };
    const ops = [
      acquire('a:1', 10, 0),
      acquire('b:1', 11, 5),
      acquire('c:1', 12, 110),
      op({ ...release('a:1', 10, 200), released: false }),
    ];
    const report = check({ ops, permits: 2, faults: [pause] });
    expect(report.violations).toEqual([]);
    expect(report.figures.pausedGrantsTakenOver).toBe(1);
  });

  it('does not call a permit released after a newer grant stale', () => {
    const ops = [acquire('a:1', 10, 0), acquire('b:1', 11, 5), release('a:1', 10, 20)];
    expect(semaphoreChecks(ops)).toEqual([]);
    expect(check({ ops }).violations.map((v) => v.check)).toContain('stale-release');
  });
});

describe('the progress check', () => {
  // A lease of 1 s, the stated bound of 1 s and a latency allowance of 500 ms: 1.5 s in all.
  const progress = (ops: Op[], faults: Fault[] = []) =>
    checkHistory({
      ops,
      register: null,
      faults,
      leaseMs: 1_000,
      recoveryBoundMs: 1_000,
      progressLatencyMs: 500,
    });
  // Only the progress check's: a fault here may also trip the recovery check.
  const violationsOf = (ops: Op[], faults: Fault[] = []) =>
    progress(ops, faults)
      .violations.map((v) => v.check)
      .filter((check) => check === 'progress');
  /** a:1 holds from 0 (lease to 1,000) and releases at 100. */
  const releasedAt100 = () => [
    op({ f: 'acquire', owner: 'a:1', invokeAt: 0, token: 10, expiresAt: 1_000, waitMs: 0 }),
    op({ f: 'release', owner: 'a:1', invokeAt: 99, token: 10, released: true }),
  ];
  /** A waiting acquire invoked at `at`, refused at its deadline. */
  const waited = (owner: string, at: number, waitMs: number, fields: Partial<Op> = {}) =>
    op({
      f: 'acquire',
      owner,
      invokeAt: at,
      completeAt: at + waitMs + 1,
      result: 'fail',
      error: 'LockHeld',
      waitMs,
      ...fields,
    });
  const grantAt = (owner: string, at: number, token: number) =>
    op({ f: 'acquire', owner, invokeAt: at - 1, token, expiresAt: at + 1_000, waitMs: 0 });

  it('catches a free lock asked for continuously for 2 s without a grant', () => {
    const ops = [...releasedAt100(), waited('b:1', 150, 2_000), grantAt('c:1', 2_300, 11)];
    const report = progress(ops);
    expect(report.violations.map((v) => v.check)).toEqual(['progress']);
    expect(report.violations[0].message).toMatch(
      /continuously from 150 to 2150 \(2000 ms, bound 1500 ms\)/,
    );
    expect(report.figures).toMatchObject({ progressWorstGapMs: 2_000, progressBoundMs: 1_500 });
  });

  it('passes a gap that is only a live lease, its holder stopped or not', () => {
    // a:1 never releases: its lease runs to 2,500; b waits from 100 and is granted at 2,600.
    const ops = [
      op({ f: 'acquire', owner: 'a:1', invokeAt: 0, token: 10, expiresAt: 2_500, waitMs: 0 }),
      op({
        f: 'acquire',
        owner: 'b:1',
        invokeAt: 100,
        completeAt: 2_600,
        token: 11,
        expiresAt: 3_600,
        waitMs: 3_000,
      }),
    ];
    const pause: Fault = {
      kind: 'pause',
      process: 'a',
      owner: 'a:1',
      token: 10,
      at: 10,
      until: 2_000,
    };
    for (const faults of [[], [pause]]) {
      expect(violationsOf(ops, faults)).toEqual([]);
      expect(progress(ops, faults).figures.progressWorstGapMs).toBe(100);
    }
  });

  it('accepts a grant within the bound of the lock freeing', () => {
    const ops = [
      ...releasedAt100(),
      waited('b:1', 150, 3_000, { result: 'ok', completeAt: 1_400, token: 11, expiresAt: 2_400 }),
    ];
    expect(violationsOf(ops)).toEqual([]);
  });

  it("bridges a caller's turnaround between two waits, but not a longer silence", () => {
    const bridged = [...releasedAt100(), waited('b:1', 150, 800), waited('b:2', 980, 800)];
    expect(violationsOf(bridged)).toEqual(['progress']);
    const silent = [...releasedAt100(), waited('b:1', 150, 800), waited('b:2', 1_100, 800)];
    expect(violationsOf(silent)).toEqual([]);
  });

  it('does not count the time DynamoDB is down', () => {
    const ops = [...releasedAt100(), waited('b:1', 150, 2_000)];
    const outage: Fault = { kind: 'db-restart', at: 700, until: 1_800 };
    expect(violationsOf(ops, [outage])).toEqual([]);
  });

  it('does not count a waiter stopped or killed as asking', () => {
    const ops = [...releasedAt100(), waited('b:1', 150, 2_000, { completeAt: 2_900 })];
    const pause: Fault = {
      kind: 'pause-waiter',
      process: 'b',
      owner: 'b:1',
      at: 900,
      until: 2_900,
    };
    expect(violationsOf(ops, [pause])).toEqual([]);
    const killedOps = [
      ...releasedAt100(),
      waited('b:1', 150, 2_000, { completeAt: null, result: 'info' }),
    ];
    const kill: Fault = { kind: 'kill-waiter', process: 'b', owner: 'b:1', at: 900 };
    expect(violationsOf(killedOps, [kill])).toEqual([]);
  });

  it('rules out a grant to a killed waiter when the tokens granted around it are consecutive', () => {
    const killedWaiter = waited('k:1', 150, 3_000, { completeAt: null, result: 'info' });
    const kill: Fault = { kind: 'kill-waiter', process: 'k', owner: 'k:1', at: 300 };
    const ops = (nextToken: number) => [
      ...releasedAt100(),
      killedWaiter,
      waited('b:1', 200, 2_200),
      grantAt('c:1', 2_500, nextToken),
    ];
    // Token 11 follows 10: k was never granted, and b asked from 200 to 2,400 on a free lock.
    expect(violationsOf(ops(11), [kill])).toEqual(['progress']);
    // A token is missing: k may have held the lock for a lease after its death, to 1,300.
    expect(violationsOf(ops(12), [kill])).toEqual([]);
    expect(progress(ops(12), [kill]).figures.progressWorstGapMs).toBe(1_100);
  });

  it("counts a killed HTTP caller's wait as a grant that may still come: its server waits on", () => {
    const ops = [
      ...releasedAt100(),
      waited('h:1', 120, 3_000, { completeAt: null, result: 'info', transport: 'http' }),
      waited('b:1', 150, 2_000),
    ];
    const kill: Fault = { kind: 'kill-waiter', process: 'h', owner: 'h:1', at: 300 };
    expect(violationsOf(ops, [kill])).toEqual([]);
  });

  it('catches a try-lock refused on a lock long free while nobody waited', () => {
    const refused = op({
      f: 'acquire',
      owner: 't:1',
      invokeAt: 2_000,
      result: 'fail',
      error: 'LockHeld',
      waitMs: 0,
    });
    const report = progress([...releasedAt100(), refused]);
    expect(report.violations.map((v) => v.check)).toEqual(['progress']);
    expect(report.violations[0].message).toMatch(/try-lock .* refused at 2001/);
    expect(report.figures.tryLocksRefusedFree).toBe(1);
  });

  it('excuses a try-lock refused behind a waiter that asked within the bound', () => {
    const refused = op({
      f: 'acquire',
      owner: 't:1',
      invokeAt: 2_000,
      result: 'fail',
      error: 'LockHeld',
      waitMs: 0,
    });
    const waiter = waited('b:1', 150, 1_000, { completeAt: null, result: 'info' });
    const kill: Fault = { kind: 'kill-waiter', process: 'b', owner: 'b:1', at: 900 };
    expect(violationsOf([...releasedAt100(), waiter, refused], [kill])).toEqual([]);
  });

  it('counts the waiter faults that hit a waiting acquire', () => {
    const ops = [
      ...releasedAt100(),
      waited('b:1', 150, 500, { completeAt: 2_000 }),
      waited('k:1', 150, 500, { completeAt: null, result: 'info' }),
    ];
    const faults: Fault[] = [
      { kind: 'pause-waiter', process: 'b', owner: 'b:1', at: 200, until: 1_900 },
      { kind: 'kill-waiter', process: 'k', owner: 'k:1', at: 200 },
    ];
    expect(progress(ops, faults).figures).toMatchObject({
      waitersKilled: 1,
      waitersPausedPastDeadline: 1,
    });
  });

  it('raises the latency allowance to two round trips of a slow run, never below its floor', () => {
    const slow = [
      ...releasedAt100(),
      op({ f: 'claim', owner: 'a:1', invokeAt: 10, completeAt: 410, token: 10, value: 0 }),
    ];
    // Two operations of one request: the 95th percentile is the slower, 400 ms.
    expect(latencyAllowance(slow)).toBe(800);
    expect(latencyAllowance(releasedAt100())).toBe(PROGRESS_LATENCY_ALLOWANCE_MS);
  });

  it('is not run on a semaphore', () => {
    const ops = [waited('b:1', 150, 2_000, { permits: 2 })];
    const report = checkHistory({
      ops,
      register: null,
      faults: [],
      leaseMs: 1_000,
      recoveryBoundMs: 1_000,
      permits: 2,
    });
    expect(report.figures.progressBoundMs).toBeNull();
  });
});

describe('readHistory', () => {
  it('pairs invocations with completions and keeps unfinished ones as indeterminate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'safety-history-'));
    try {
      const file = join(dir, 'c0.jsonl');
      const lines = [
        { ev: 'process', process: 'c0', pid: 1, transport: 'http', clockOffsetMs: 2500 },
        { ev: 'invoke', id: 'c0:1', f: 'acquire', owner: 'c0:1', at: 10, since: 10 },
        { ev: 'complete', id: 'c0:1', at: 12, result: 'ok', token: 7, expiresAt: 1010 },
        { ev: 'invoke', id: 'c0:2', f: 'claim', owner: 'c0:1', at: 13, token: 7 },
      ];
      // The last line was cut short by a SIGKILL.
      writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"ev":"compl`);
      expect(readHistory([file])).toEqual([
        {
          id: 'c0:1',
          process: 'c0',
          f: 'acquire',
          owner: 'c0:1',
          invokeAt: 10,
          since: 10,
          completeAt: 12,
          result: 'ok',
          token: 7,
          expiresAt: 1010,
          clockOffsetMs: 2500,
          transport: 'http',
        },
        {
          id: 'c0:2',
          process: 'c0',
          f: 'claim',
          owner: 'c0:1',
          invokeAt: 13,
          token: 7,
          completeAt: null,
          result: 'info',
          clockOffsetMs: 2500,
          transport: 'http',
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
