import { readFileSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import { ExecutionAbortedError } from 'aws-local-stepfunctions';
import { jest } from '@jest/globals';
import { createCleanupHandler, readAllowedStateMachines } from '../../lambdas/cleanup/cleanup.js';
import { createInvokeHandler, readInvokeHandlerOptions } from '../../lambdas/direct/invoke.js';
import { readConfig } from '../../lambdas/service/config.js';
import { LockUseCase } from '../../lambdas/service/lock-use-case.js';
import { LockLost, LockManager, ValidationError } from '../../lib/index.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';
import {
  executionArn,
  runOwner,
  SECTION,
  STATE_MACHINE_ARN,
  startSection,
  synthesizeSection,
} from '../support/local-section.js';

type Json = Record<string, unknown>;

/**
 * An "Execution Status Change" event as EventBridge delivers it (see the fixtures' README), of
 * run `redriveCount` of the execution when given (events of old carry no count).
 */
function statusChange(status: string, arn: string, redriveCount?: number): Json {
  const file = new URL(`../fixtures/execution-status-change/${status}.json`, import.meta.url);
  const event = JSON.parse(readFileSync(file, 'utf8')) as Json & { detail: Json };
  const run = redriveCount === undefined ? {} : { redriveCount };
  return {
    ...event,
    resources: [arn],
    detail: { ...event.detail, executionArn: arn, stateMachineArn: STATE_MACHINE_ARN, ...run },
  };
}

let tableName: string;
let service: LockUseCase;
const doc = documentClient();

beforeAll(async () => {
  tableName = await freshLockTable('cleanup');
  service = new LockUseCase(
    readConfig({ LOCK_TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint() }),
  );
});
afterAll(() => {
  service.close();
  doc.destroy();
});

const locks = () => new LockManager({ tableName, client: doc });
const cleanup = () => createCleanupHandler(service, new Set([STATE_MACHINE_ARN]));
const direct = () => createInvokeHandler(service);

/** The most intervals open at one instant. */
function peakOverlap(intervals: { start: number; end: number }[]): number {
  const edges = intervals.flatMap(({ start, end }) => [
    { at: start, delta: 1 },
    { at: end, delta: -1 },
  ]);
  // At a tie, the end comes first: a section that starts as another ends did not overlap it.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let peak = 0;
  for (const { delta } of edges) peak = Math.max(peak, (open += delta));
  return peak;
}

describe('the cleanup handler', () => {
  it.each([['aborted'], ['timed-out'], ['failed']])(
    'frees every lock and permit of an execution that ended %s',
    async (status) => {
      const owner = runOwner(`ended-${status}`);
      const [lockId, semId] = [`cleanup-lock-${status}`, `cleanup-sem-${status}`];
      await locks().acquire(lockId, { owner, trackOwner: true, leaseMs: 3_600_000 });
      await locks().acquire(semId, { owner, trackOwner: true, permits: 2, leaseMs: 3_600_000 });
      const arn = executionArn(`ended-${status}`);
      const result = await cleanup()(statusChange(status, arn), lambdaContext('cleanup'));
      expect(result).toMatchObject({ executionArn: arn, redriveCount: 0 });
      expect(result.released.sort()).toEqual([lockId, semId].sort());
      expect((await locks().get(lockId)).held).toBe(false);
      expect(await locks().get(semId)).toMatchObject({ held: false, available: 2 });
    },
  );

  it.each([['succeeded'], ['running']])(
    'refuses a %s event and changes nothing',
    async (status) => {
      const owner = runOwner(`alive-${status}`);
      const lockId = `cleanup-alive-${status}`;
      await locks().acquire(lockId, { owner, trackOwner: true });
      await expect(
        cleanup()(statusChange(status, executionArn(`alive-${status}`)), lambdaContext('cleanup')),
      ).rejects.toBeInstanceOf(ValidationError);
      expect((await locks().get(lockId)).owner).toBe(owner);
    },
  );

  it('frees only the run the event names: a redriven run of the same execution keeps its lock', async () => {
    const arn = executionArn('redriven-twice');
    await locks().acquire('cleanup-run-0', {
      owner: runOwner('redriven-twice', 0),
      trackOwner: true,
    });
    await locks().acquire('cleanup-run-1', {
      owner: runOwner('redriven-twice', 1),
      trackOwner: true,
    });
    const result = await cleanup()(statusChange('failed', arn, 0), lambdaContext('cleanup'));
    expect(result).toMatchObject({ redriveCount: 0, released: ['cleanup-run-0'] });
    expect((await locks().get('cleanup-run-1')).owner).toBe(runOwner('redriven-twice', 1));
    // The ended run can lock nothing more; the later run still can.
    await expect(
      locks().acquire('cleanup-run-2', { owner: runOwner('redriven-twice', 0), trackOwner: true }),
    ).rejects.toBeInstanceOf(LockLost);
    await locks().acquire('cleanup-run-2', {
      owner: runOwner('redriven-twice', 1),
      trackOwner: true,
    });
    const second = await cleanup()(statusChange('aborted', arn, 1), lambdaContext('cleanup'));
    expect(second.released.sort()).toEqual(['cleanup-run-1', 'cleanup-run-2']);
  });

  it.each([[-1], [1.5], ['1']])('refuses a redriveCount of %p', async (redriveCount) => {
    const event = statusChange('failed', executionArn('bad-count'));
    (event.detail as Json).redriveCount = redriveCount;
    await expect(cleanup()(event, lambdaContext('cleanup'))).rejects.toMatchObject({
      field: 'detail.redriveCount',
    });
  });

  it('refuses an event that is not an execution status change', async () => {
    await expect(
      cleanup()(
        { source: 'aws.states', 'detail-type': 'Object Created', detail: {} },
        lambdaContext('cleanup'),
      ),
    ).rejects.toMatchObject({ field: 'detail-type' });
  });

  it('frees every one of two locks and two semaphores of an ended execution', async () => {
    const owner = runOwner('four-held');
    const ids = ['four-lock-1', 'four-lock-2', 'four-sem-1', 'four-sem-2'];
    await locks().acquire(ids[0], { owner, trackOwner: true, leaseMs: 3_600_000 });
    await locks().acquire(ids[1], { owner, trackOwner: true, leaseMs: 3_600_000 });
    await locks().acquire(ids[2], { owner, trackOwner: true, permits: 2, leaseMs: 3_600_000 });
    await locks().acquire(ids[3], { owner, trackOwner: true, permits: 4, leaseMs: 3_600_000 });
    const event = statusChange('aborted', executionArn('four-held'));
    const result = await cleanup()(event, lambdaContext('cleanup'));
    expect(result.released.sort()).toEqual([...ids].sort());
    for (const lockId of ids) expect((await locks().get(lockId)).held).toBe(false);
  });

  // Anything allowed to invoke the function could send these; none may end an execution.
  it.each([
    ['source', { source: 'my.app' }],
    ['detail.stateMachineArn', { stateMachineArn: `${STATE_MACHINE_ARN}-other` }],
    ['detail.stateMachineArn', { stateMachineArn: undefined }],
    [
      'detail.executionArn',
      { executionArn: 'arn:aws:states:local:123456789012:execution:Other:forged' },
    ],
  ])(
    'refuses an event whose %s is not ours, logs why, and changes nothing',
    async (field, change) => {
      const name = `forged-${field}-${Object.keys(change)[0]}`;
      const owner = runOwner(name);
      const lockId = `cleanup-forged-${field}-${Object.keys(change)[0]}`;
      const grant = await locks().acquire(lockId, { owner, trackOwner: true, leaseMs: 600_000 });
      const event = statusChange('aborted', executionArn(name)) as Json & { detail: Json };
      const forged =
        'source' in change
          ? { ...event, ...change }
          : { ...event, detail: { ...event.detail, ...change } };
      const warnings: unknown[] = [];
      const warn = jest.spyOn(service.logger, 'warn').mockImplementation((...args) => {
        warnings.push(args);
      });
      try {
        await expect(cleanup()(forged, lambdaContext('cleanup'))).rejects.toMatchObject({
          name: 'ValidationError',
          field,
        });
      } finally {
        warn.mockRestore();
      }
      expect(JSON.stringify(warnings)).toContain(field);
      expect(await locks().get(lockId)).toMatchObject({ owner, token: grant.token });
      // The owner was not ended: its next tracked acquire still works.
      await locks().acquire(`${lockId}-next`, { owner, trackOwner: true });
    },
  );

  it('will not start without the state machines it serves', () => {
    expect(() => readAllowedStateMachines({})).toThrow(/CLEANUP_STATE_MACHINE_ARNS/);
    expect([...readAllowedStateMachines({ CLEANUP_STATE_MACHINE_ARNS: ' a , b ' })]).toEqual([
      'a',
      'b',
    ]);
  });
});

describe('Step Functions, run locally', () => {
  it('lets at most 3 executions into a section with permits: 3, and all 10 finish', async () => {
    const { definition } = synthesizeSection({ permits: 3, maxWait: Duration.seconds(90) });
    const inside: { start: number; end: number }[] = [];
    const work = async () => {
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 800));
      inside.push({ start, end: Date.now() });
    };
    const runs = Array.from(
      { length: 10 },
      (_, i) =>
        startSection({ definition, direct: direct(), work }, `pool-${i}`, {
          lockName: 'sfn-pool',
          fail: 'no',
        }).result,
    );
    const results = await Promise.all(runs);
    expect(results).toHaveLength(10);
    for (const result of results) expect(result).toMatchObject({ work: { done: true } });
    expect(inside).toHaveLength(10);
    expect(peakOverlap(inside)).toBe(3);
    expect(await locks().get('sfn-pool')).toMatchObject({ held: false, available: 3 });
  }, 120_000);

  it.each([
    ['all locks', undefined, 'sfn-abort'],
    ['a scope', { prefixes: ['team-a:'] }, 'team-a:sfn-abort'],
  ] as const)(
    'frees the lock of an aborted execution at once (section on %s): the next one does not wait out the lease',
    async (_, scope, lockName) => {
      // A 5-minute lease: without the cleanup the next execution would wait that long.
      const { definition, lockFunctionEnv } = synthesizeSection(
        { lease: Duration.minutes(5), maxWait: Duration.minutes(10) },
        (locks) => (scope ? locks.scopedFunction(scope) : locks.directFunction),
      );
      // The section's states invoke the section function of its scope, run as deployed.
      expect(lockFunctionEnv).toMatchObject({
        LOCK_CALLERS: 'sections',
        ...(scope ? { LOCK_PREFIXES: JSON.stringify(scope.prefixes) } : {}),
      });
      const deployed = createInvokeHandler(service, readInvokeHandlerOptions(lockFunctionEnv));
      let entered!: (token: number) => void;
      const firstInside = new Promise<number>((resolve) => (entered = resolve));
      // Each case its own executions: the cleanup ends an owner for good.
      const [aborted, later] = scope ? ['aborted-scoped', 'next-scoped'] : ['aborted', 'next'];
      const tokens: Record<string, number> = {};
      const work = async (name: string, token: number) => {
        tokens[name] = token;
        if (name === aborted) {
          entered(token);
          await new Promise(() => {}); // stuck inside the section until aborted
        }
      };
      const run = { definition, direct: deployed, work };
      const first = startSection(run, aborted, { lockName, fail: 'no' });
      // A run that ends before its work starts fails the test here rather than hang it.
      const held = await Promise.race([firstInside, first.result.then(() => -1)]);
      first.abort();
      await expect(first.result).rejects.toBeInstanceOf(ExecutionAbortedError);
      // StopExecution runs no Catch: the section's own release never ran.
      expect((await locks().get(lockName)).owner).toBe(runOwner(aborted));

      const cleaned = await cleanup()(
        statusChange('aborted', executionArn(aborted)),
        lambdaContext('cleanup'),
      );
      expect(cleaned.released).toEqual([lockName]);
      const started = Date.now();
      const next = await startSection(run, later, { lockName, fail: 'no' }).result;
      expect(next).toMatchObject({ work: { done: true } });
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(tokens[later]).toBeGreaterThan(held);
    },
    60_000,
  );

  /** The direct handler, telling `seen` of each acquire it answers (owner and outcome). */
  const observedDirect = (seen: (owner: string, outcome: string) => void) => {
    const handler = direct();
    return (async (event, context) => {
      const { action, owner } = event as { action: string; owner: string };
      try {
        const answer = await handler(event, context);
        if (action === 'acquire') seen(owner, 'granted');
        return answer;
      } catch (err) {
        if (action === 'acquire') seen(owner, (err as Error).name);
        throw err;
      }
    }) as ReturnType<typeof direct>;
  };

  /** A late acquire of an ended run, as a Lambda retry still in flight would send it. */
  const lateAcquire = (lockId: string, owner: string, permits?: number) =>
    direct()(
      { action: 'acquire', lockId, owner, trackOwner: true, ...(permits ? { permits } : {}) },
      lambdaContext('lock-direct'),
    );

  it('a redrive restarted at the section acquires again: never more than 3 inside permits: 3', async () => {
    const { definition } = synthesizeSection({ permits: 3, lease: Duration.minutes(5) });
    const inside: { name: string; start: number; end: number; token: number }[] = [];
    let entered!: (token: number) => void;
    const stuckInside = new Promise<number>((resolve) => (entered = resolve));
    let firstRun = true;
    const work = async (name: string, token: number) => {
      if (name === 'redriven' && firstRun) {
        firstRun = false;
        entered(token);
        await new Promise(() => {}); // stuck inside the section until aborted
      }
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, name === 'redriven' ? 200 : 1_500));
      inside.push({ name, start, end: Date.now(), token });
    };
    const run = { definition, direct: direct(), work };
    const input = { lockName: 'sfn-redrive-section', fail: 'no' };
    const first = startSection(run, 'redriven', input);
    const oldToken = await stuckInside;
    first.abort();
    await expect(first.result).rejects.toBeInstanceOf(ExecutionAbortedError);
    const sectionInput = await first.inputOf(`${SECTION} Section`);
    expect(sectionInput).toMatchObject({ lock: { token: oldToken } });

    // The execution ABORTED: its cleanup frees its permit and ends its run 0.
    const cleaned = await cleanup()(
      statusChange('aborted', executionArn('redriven'), 0),
      lambdaContext('cleanup'),
    );
    expect(cleaned.released).toEqual(['sfn-redrive-section']);
    await expect(
      lateAcquire('sfn-redrive-section', runOwner('redriven', 0), 3),
    ).rejects.toMatchObject({
      name: 'LockLost',
    });

    // Three others take every permit; then the execution is redriven, restarting at the section
    // with the grant of run 0 in its input.
    const others = ['o-1', 'o-2', 'o-3'].map((name) => startSection(run, name, input).result);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await locks().get('sfn-redrive-section')).toMatchObject({ available: 0 });
    const redrive = startSection(run, 'redriven', sectionInput!, {
      redriveCount: 1,
      startAt: `${SECTION} Section`,
    });
    const results = await Promise.allSettled([redrive.result, ...others]);
    // Safety first: the redriven run's work never ran beside three others.
    expect(peakOverlap(inside)).toBeLessThanOrEqual(3);
    for (const result of results) {
      expect(result).toMatchObject({ status: 'fulfilled', value: { work: { done: true } } });
    }
    expect(inside).toHaveLength(4);
    const again = inside.find((i) => i.name === 'redriven')!;
    expect(again.token).toBeGreaterThan(oldToken);
    // It went in only once a permit was free: after one of the others had left.
    expect(again.start).toBeGreaterThanOrEqual(
      Math.min(...inside.filter((i) => i.name !== 'redriven').map((i) => i.end)),
    );
    expect(await locks().get('sfn-redrive-section')).toMatchObject({ available: 3 });
  }, 90_000);

  it('a redrive restarted at the acquire locks as a new run; the ended run stays refused', async () => {
    const { definition } = synthesizeSection({ lease: Duration.minutes(5) });
    const holder = await locks().acquire('sfn-redrive-acquire', {
      owner: 'someone-else',
      leaseMs: 60_000,
    });
    let refused!: () => void;
    const triedOnce = new Promise<void>((resolve) => (refused = resolve));
    const seen = (owner: string, outcome: string) => {
      if (owner === runOwner('waiting', 0) && outcome === 'LockHeld') refused();
    };
    const tokens: number[] = [];
    const run = {
      definition,
      direct: observedDirect(seen),
      work: async (_name: string, token: number) => void tokens.push(token),
    };
    const input = { lockName: 'sfn-redrive-acquire', fail: 'no' };
    const first = startSection(run, 'waiting', input);
    await triedOnce; // registered under run 0 and refused: retrying in the acquire
    first.abort();
    await expect(first.result).rejects.toBeInstanceOf(ExecutionAbortedError);
    await cleanup()(statusChange('aborted', executionArn('waiting'), 0), lambdaContext('cleanup'));

    await locks().release('sfn-redrive-acquire', holder);
    const redriven = await startSection(run, 'waiting', input, {
      redriveCount: 1,
      startAt: `${SECTION} Acquire`,
    }).result;
    expect(redriven).toMatchObject({ work: { done: true } });
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toBeGreaterThan(holder.token);
    // Run 0 ended with its cleanup: a late acquire of it is still refused.
    await expect(lateAcquire('sfn-redrive-acquire', runOwner('waiting', 0))).rejects.toMatchObject({
      name: 'LockLost',
    });
    expect((await locks().get('sfn-redrive-acquire')).held).toBe(false);
  }, 60_000);
});
