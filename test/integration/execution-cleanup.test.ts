import { readFileSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import { ExecutionAbortedError } from 'aws-local-stepfunctions';
import { jest } from '@jest/globals';
import { createCleanupHandler, readAllowedStateMachines } from '../../lambdas/cleanup/cleanup.js';
import { createInvokeHandler } from '../../lambdas/direct/invoke.js';
import { readConfig } from '../../lambdas/service/config.js';
import { LockUseCase } from '../../lambdas/service/lock-use-case.js';
import { LockManager, ValidationError } from '../../lib/index.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';
import {
  executionArn,
  STATE_MACHINE_ARN,
  startSection,
  synthesizeSection,
} from '../support/local-section.js';

type Json = Record<string, unknown>;

/** An "Execution Status Change" event as EventBridge delivers it (see the fixtures' README). */
function statusChange(status: string, arn: string): Json {
  const file = new URL(`../fixtures/execution-status-change/${status}.json`, import.meta.url);
  const event = JSON.parse(readFileSync(file, 'utf8')) as Json & { detail: Json };
  return {
    ...event,
    resources: [arn],
    detail: { ...event.detail, executionArn: arn, stateMachineArn: STATE_MACHINE_ARN },
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
      const owner = executionArn(`ended-${status}`);
      const [lockId, semId] = [`cleanup-lock-${status}`, `cleanup-sem-${status}`];
      await locks().acquire(lockId, { owner, trackOwner: true, leaseMs: 3_600_000 });
      await locks().acquire(semId, { owner, trackOwner: true, permits: 2, leaseMs: 3_600_000 });
      const result = await cleanup()(statusChange(status, owner), lambdaContext('cleanup'));
      expect(result.executionArn).toBe(owner);
      expect(result.released.sort()).toEqual([lockId, semId].sort());
      expect((await locks().get(lockId)).held).toBe(false);
      expect(await locks().get(semId)).toMatchObject({ held: false, available: 2 });
    },
  );

  it.each([['succeeded'], ['running']])(
    'refuses a %s event and changes nothing',
    async (status) => {
      const owner = executionArn(`alive-${status}`);
      const lockId = `cleanup-alive-${status}`;
      await locks().acquire(lockId, { owner, trackOwner: true });
      await expect(
        cleanup()(statusChange(status, owner), lambdaContext('cleanup')),
      ).rejects.toBeInstanceOf(ValidationError);
      expect((await locks().get(lockId)).owner).toBe(owner);
    },
  );

  it('refuses an event that is not an execution status change', async () => {
    await expect(
      cleanup()(
        { source: 'aws.states', 'detail-type': 'Object Created', detail: {} },
        lambdaContext('cleanup'),
      ),
    ).rejects.toMatchObject({ field: 'detail-type' });
  });

  it('frees every one of two locks and two semaphores of an ended execution', async () => {
    const owner = executionArn('four-held');
    const ids = ['four-lock-1', 'four-lock-2', 'four-sem-1', 'four-sem-2'];
    await locks().acquire(ids[0], { owner, trackOwner: true, leaseMs: 3_600_000 });
    await locks().acquire(ids[1], { owner, trackOwner: true, leaseMs: 3_600_000 });
    await locks().acquire(ids[2], { owner, trackOwner: true, permits: 2, leaseMs: 3_600_000 });
    await locks().acquire(ids[3], { owner, trackOwner: true, permits: 4, leaseMs: 3_600_000 });
    const result = await cleanup()(statusChange('aborted', owner), lambdaContext('cleanup'));
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
      const owner = executionArn(`forged-${field}-${Object.keys(change)[0]}`);
      const lockId = `cleanup-forged-${field}-${Object.keys(change)[0]}`;
      const grant = await locks().acquire(lockId, { owner, trackOwner: true, leaseMs: 600_000 });
      const event = statusChange('aborted', owner) as Json & { detail: Json };
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

  it('frees the lock of an aborted execution at once: the next one does not wait out the lease', async () => {
    // A 5-minute lease: without the cleanup the next execution would wait that long.
    const { definition } = synthesizeSection({
      lease: Duration.minutes(5),
      maxWait: Duration.minutes(10),
    });
    let entered!: (token: number) => void;
    const firstInside = new Promise<number>((resolve) => (entered = resolve));
    const tokens: Record<string, number> = {};
    const work = async (name: string, token: number) => {
      tokens[name] = token;
      if (name === 'aborted') {
        entered(token);
        await new Promise(() => {}); // stuck inside the section until aborted
      }
    };
    const run = { definition, direct: direct(), work };
    const first = startSection(run, 'aborted', { lockName: 'sfn-abort', fail: 'no' });
    const held = await firstInside;
    first.abort();
    await expect(first.result).rejects.toBeInstanceOf(ExecutionAbortedError);
    // StopExecution runs no Catch: the section's own release never ran.
    expect((await locks().get('sfn-abort')).owner).toBe(executionArn('aborted'));

    const cleaned = await cleanup()(
      statusChange('aborted', executionArn('aborted')),
      lambdaContext('cleanup'),
    );
    expect(cleaned.released).toEqual(['sfn-abort']);
    const started = Date.now();
    const next = await startSection(run, 'next', { lockName: 'sfn-abort', fail: 'no' }).result;
    expect(next).toMatchObject({ work: { done: true } });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(tokens.next).toBeGreaterThan(held);
  }, 60_000);
});
