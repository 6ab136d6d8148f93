import { createInvokeHandler, readInvokeHandlerOptions } from '../../lambdas/direct/invoke.js';
import { LockManager } from '../../lib/index.js';
import { readConfig } from '../../lambdas/service/config.js';
import { LockUseCase } from '../../lambdas/service/lock-use-case.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';
import { startSection, synthesizeSection } from '../support/local-section.js';

type Json = Record<string, unknown>;

let tableName: string;
let definition: Json;
let direct: ReturnType<typeof createInvokeHandler>;
const events: { execution: string; kind: 'start' | 'end'; at: number; token: number }[] = [];

beforeAll(async () => {
  tableName = await freshLockTable();
  definition = synthesizeSection().definition;
  direct = createInvokeHandler(
    new LockUseCase(readConfig({ LOCK_TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint() })),
  );
});

async function work(name: string, token: number) {
  events.push({ execution: name, kind: 'start', at: Date.now(), token });
  await new Promise((resolve) => setTimeout(resolve, 700));
  events.push({ execution: name, kind: 'end', at: Date.now(), token });
}

const execute = (name: string, input: Json) =>
  startSection({ definition, direct, work }, name, input).result;

const lockState = async (lockId: string) => {
  const doc = documentClient();
  const state = await new LockManager({ tableName, client: doc }).get(lockId);
  doc.destroy();
  return state;
};

it('runs the sections of two executions on one lock one after the other, tokens increasing', async () => {
  const results = await Promise.all([
    execute('first', { lockName: 'sfn-serial', fail: 'no' }),
    execute('second', { lockName: 'sfn-serial', fail: 'no' }),
  ]);
  for (const result of results) {
    expect(result).toMatchObject({ lockName: 'sfn-serial', work: { done: true } });
  }
  const mine = events.filter((e) => e.execution === 'first' || e.execution === 'second');
  expect(mine.map((e) => e.kind)).toEqual(['start', 'end', 'start', 'end']);
  expect(mine[0].execution).toBe(mine[1].execution);
  expect(mine[2].at).toBeGreaterThanOrEqual(mine[1].at);
  expect(mine[2].token).toBeGreaterThan(mine[0].token);
  expect((await lockState('sfn-serial')).held).toBe(false);
}, 60_000);

it('releases the lock when the section fails, and fails with the section error', async () => {
  const run = execute('failing', { lockName: 'sfn-fail', fail: 'yes' });
  // The execution ends in the section's Fail state, carrying the work's own error and cause.
  await expect(run).rejects.toMatchObject({
    cause: { name: 'WorkFailed', message: expect.stringContaining('the work failed') },
  });
  expect(events.some((e) => e.execution === 'failing' && e.kind === 'end')).toBe(true);
  expect((await lockState('sfn-fail')).held).toBe(false);
}, 30_000);

it('waits for a held lock and then acquires it', async () => {
  const doc = documentClient();
  const holder = await new LockManager({ tableName, client: doc }).acquire('sfn-wait', {
    owner: 'someone-else',
    leaseMs: 2_500,
  });
  doc.destroy();
  const result = await execute('waiter', { lockName: 'sfn-wait', fail: 'no' });
  expect(result).toMatchObject({ work: { done: true } });
  const started = events.find((e) => e.execution === 'waiter' && e.kind === 'start');
  expect(started?.at).toBeGreaterThanOrEqual(holder.expiresAt);
  expect(started?.token).toBeGreaterThan(holder.token);
}, 60_000);

it('retries each transient Lambda error in every lock state, and the section completes', async () => {
  const transient = [
    'Lambda.ClientExecutionTimeoutException',
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
    'InternalError',
  ];
  const failures: string[] = [];
  const failed = new Map<string, number>();
  // Each lock action fails twice, with the next transient errors, before reaching the function:
  // the six errors in all.
  const flaky = (async (event, context) => {
    const { action } = event as { action: string };
    const times = failed.get(action) ?? 0;
    if (times < 2) {
      failed.set(action, times + 1);
      const error = new Error(`a transient fault before ${action}`);
      error.name = transient[failures.length % transient.length];
      failures.push(`${action}: ${error.name}`);
      throw error;
    }
    return direct(event, context);
  }) as typeof direct;
  const result = await startSection({ definition, direct: flaky, work }, 'flaky', {
    lockName: 'sfn-flaky',
    fail: 'no',
  }).result;
  expect(result).toMatchObject({ work: { done: true } });
  // Acquire, the confirm's renew and release: each failed twice, then passed.
  expect(failures.map((f) => f.split(':')[0])).toEqual([
    ...['acquire', 'acquire', 'renew', 'renew', 'release', 'release'],
  ]);
  expect(failures.map((f) => f.split(': ')[1]).sort()).toEqual([...transient].sort());
  expect((await lockState('sfn-flaky')).held).toBe(false);
}, 60_000);

describe('a section on a scoped service', () => {
  let scoped: { definition: Json; direct: ReturnType<typeof createInvokeHandler> };
  beforeAll(() => {
    const { definition: scopedDefinition, lockFunctionEnv } = synthesizeSection({}, (locks) =>
      locks.scopedFunction({ prefixes: ['team-a:'] }),
    );
    // The states invoke the scope's section function: run its handler as deployed.
    expect(lockFunctionEnv).toMatchObject({
      LOCK_CALLERS: 'sections',
      LOCK_PREFIXES: '["team-a:"]',
    });
    scoped = {
      definition: scopedDefinition,
      direct: createInvokeHandler(
        new LockUseCase(readConfig({ LOCK_TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint() })),
        readInvokeHandlerOptions(lockFunctionEnv),
      ),
    };
  });

  it('locks inside its scope, one execution after the other', async () => {
    const results = await Promise.all(
      ['scoped-1', 'scoped-2'].map(
        (name) =>
          startSection({ ...scoped, work }, name, { lockName: 'team-a:nightly', fail: 'no' })
            .result,
      ),
    );
    for (const result of results) expect(result).toMatchObject({ work: { done: true } });
    const mine = events.filter((e) => e.execution.startsWith('scoped-'));
    expect(mine.map((e) => e.kind)).toEqual(['start', 'end', 'start', 'end']);
    expect((await lockState('team-a:nightly')).held).toBe(false);
  }, 60_000);

  it("fails with AccessDenied on another scope's lock, which it leaves untouched", async () => {
    const doc = documentClient();
    const other = await new LockManager({ tableName, client: doc }).acquire('team-b:nightly', {
      owner: 'team-b-holder',
      leaseMs: 30_000,
    });
    doc.destroy();
    const run = startSection({ ...scoped, work }, 'out-of-scope', {
      lockName: 'team-b:nightly',
      fail: 'no',
    }).result;
    await expect(run).rejects.toMatchObject({ cause: { name: 'AccessDenied' } });
    expect(events.some((e) => e.execution === 'out-of-scope')).toBe(false);
    expect(await lockState('team-b:nightly')).toMatchObject({
      held: true,
      owner: 'team-b-holder',
      token: other.token,
      expiresAt: other.expiresAt,
    });
  }, 30_000);
});
