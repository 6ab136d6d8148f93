import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { lambdaContext } from '../../local/lambda-context.js';
import type { Context } from 'aws-lambda';
import {
  createInvokeHandler,
  type InvokeHandler,
  readAllowedActions,
  readAllowedPrefixes,
} from '../../lambdas/direct/invoke.js';
import { WORKER_OPERATIONS } from '../../lib/contract/operations.js';
import { readConfig } from '../../lambdas/service/config.js';
import { LockUseCase } from '../../lambdas/service/lock-use-case.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';
import { runNode } from '../support/run-node.js';

let tableName: string;
let handler: InvokeHandler;
const doc = documentClient();
const silent = () => new Logger({ logLevel: 'SILENT' });

const context = (remainingMs = 60_000): Context =>
  lambdaContext('lock-invoke-test', remainingMs, 'req-1234');

function serviceFor(table: string, parts: ConstructorParameters<typeof LockUseCase>[1] = {}) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  return new LockUseCase(readConfig({ LOCK_TABLE_NAME: table }), {
    client: doc,
    logger: silent(),
    ...parts,
  });
}

/** What a thrown error becomes in a Lambda response: its `name` is the error type. */
async function failure(event: unknown, ctx = context(), h = handler) {
  const err = await h(event, ctx).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!err) throw new Error('expected the invocation to fail');
  return { errorType: err.name, errorMessage: err.message, error: err };
}

beforeAll(async () => {
  tableName = await freshLockTable('direct');
  handler = createInvokeHandler(serviceFor(tableName));
});

afterAll(() => doc.destroy());

describe('direct invocation', () => {
  test('each action returns the same objects as the HTTP API', async () => {
    const grant = await handler(
      { action: 'acquire', lockId: 'job', owner: 'exec-1', leaseMs: 5_000 },
      context(),
    );
    expect(grant).toEqual({
      lockId: 'job',
      owner: 'exec-1',
      token: expect.any(Number),
      expiresAt: expect.any(Number),
      leaseMs: 5_000,
    });
    const { token } = grant as { token: number };
    const renewed = await handler(
      { action: 'renew', lockId: 'job', owner: 'exec-1', token, leaseMs: 9_000 },
      context(),
    );
    expect(renewed).toMatchObject({ lockId: 'job', owner: 'exec-1', token, leaseMs: 9_000 });
    expect(await handler({ action: 'get', lockId: 'job' }, context())).toMatchObject({
      lockId: 'job',
      held: true,
      owner: 'exec-1',
      token,
    });
    expect(
      await handler({ action: 'release', lockId: 'job', owner: 'exec-1', token }, context()),
    ).toEqual({
      released: true,
    });
    expect(
      await handler({ action: 'release', lockId: 'job', owner: 'exec-1', token }, context()),
    ).toEqual({
      released: false,
    });
    await handler({ action: 'acquire', lockId: 'job', owner: 'exec-2' }, context());
    expect(await handler({ action: 'forceRelease', lockId: 'job' }, context())).toEqual({
      released: true,
    });
    const item = (
      await doc.send(
        new GetCommand({ TableName: tableName, Key: { lockId: 'job' }, ConsistentRead: true }),
      )
    ).Item;
    expect(item?.owner).toBeUndefined();
    expect(item?.token).toBe(token + 2);
  });

  test('a held lock fails with error type LockHeld', async () => {
    await handler(
      { action: 'acquire', lockId: 'busy', owner: 'exec-1', leaseMs: 60_000 },
      context(),
    );
    const { errorType, errorMessage } = await failure({
      action: 'acquire',
      lockId: 'busy',
      owner: 'exec-2',
    });
    expect(errorType).toBe('LockHeld');
    // The message is the JSON error body: the fields for machines, `message` for people.
    const body = JSON.parse(errorMessage) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'LockHeld', owner: 'exec-1' });
    expect(body.message).toMatch(/held by "exec-1" for another \d+ ms/);
  });

  test('a stale renew fails with error type LockLost', async () => {
    const { token } = (await handler(
      { action: 'acquire', lockId: 'lost', owner: 'exec-1' },
      context(),
    )) as {
      token: number;
    };
    await handler({ action: 'forceRelease', lockId: 'lost' }, context());
    const { errorType } = await failure({
      action: 'renew',
      lockId: 'lost',
      owner: 'exec-1',
      token,
    });
    expect(errorType).toBe('LockLost');
  });

  test.each([
    ['an unknown action', { action: 'steal', lockId: 'v' }, 'action'],
    ['no action', { lockId: 'v' }, 'action'],
    ['no lockId', { action: 'get' }, 'lockId'],
    ['a numeric lockId', { action: 'get', lockId: 7 }, 'lockId'],
    ['a field the action does not take', { action: 'get', lockId: 'v', owner: 'x' }, 'owner'],
    ['a misspelt field', { action: 'acquire', lockId: 'v', owner: 'x', leaseMS: 1 }, 'leaseMS'],
    ['a missing owner', { action: 'release', lockId: 'v', token: 1 }, 'owner'],
    ['a fractional token', { action: 'renew', lockId: 'v', owner: 'x', token: 1.5 }, 'token'],
    ['a huge leaseMs', { action: 'acquire', lockId: 'v', owner: 'x', leaseMs: 1e12 }, 'leaseMs'],
    ['a negative waitMs', { action: 'acquire', lockId: 'v', owner: 'x', waitMs: -1 }, 'waitMs'],
    ['a non-object event', 'acquire', 'event'],
    ['an array event', [{ action: 'get', lockId: 'v' }], 'event'],
  ])('%s fails with error type ValidationError naming the field', async (_name, event, field) => {
    const { errorType, error } = await failure(event);
    expect(errorType).toBe('ValidationError');
    expect((error as Error & { field: string }).field).toBe(field);
    expect(
      (await doc.send(new GetCommand({ TableName: tableName, Key: { lockId: 'v' } }))).Item,
    ).toBeUndefined();
  });

  test('direct invocation accepts waits longer than the HTTP cap', async () => {
    const grant = await handler(
      { action: 'acquire', lockId: 'long-wait', owner: 'x', waitMs: 600_000 },
      context(),
    );
    expect(grant).toMatchObject({ owner: 'x' });
  });

  test('a wait is cut short to answer LockHeld before the invocation times out', async () => {
    await handler(
      { action: 'acquire', lockId: 'clamped', owner: 'exec-1', leaseMs: 120_000 },
      context(),
    );
    // 2.5 s left: without the cut, a 100 s wait would outlive the test's own timeout.
    const { errorType } = await failure(
      { action: 'acquire', lockId: 'clamped', owner: 'exec-2', waitMs: 100_000 },
      context(2_500),
    );
    expect(errorType).toBe('LockHeld');
  });

  test('an unexpected fault fails with InternalError, logging the real error only', async () => {
    const logger = silent();
    const logged = jest.spyOn(logger, 'error');
    const broken = createInvokeHandler(serviceFor('no-such-table-9c1d', { logger }));
    const { errorType, errorMessage } = await failure(
      { action: 'get', lockId: 'x' },
      context(),
      broken,
    );
    expect(errorType).toBe('InternalError');
    expect(errorMessage).toContain('req-1234');
    expect(errorMessage).not.toMatch(/no-such-table|ResourceNotFound|non-existent|DynamoDB/);
    expect(logged).toHaveBeenCalledWith(
      'unexpected fault',
      expect.objectContaining({ name: 'ResourceNotFoundException' }),
    );
  });

  test('metrics: grants, takeovers, refusals and latency are emitted in EMF', async () => {
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    const metrics = new Metrics({
      namespace: 'FencedLockTest',
      serviceName: 'lock-test',
      logger: silent(),
    });
    const service = new LockUseCase(readConfig({ LOCK_TABLE_NAME: tableName }), {
      client: doc,
      logger: silent(),
      metrics,
    });
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const emf = createInvokeHandler(service);
    const lines: string[] = [];
    const write = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    try {
      await emf({ action: 'acquire', lockId: 'metered', owner: 'a', leaseMs: 1_000 }, context());
      await failure({ action: 'acquire', lockId: 'metered', owner: 'b' }, context(), emf);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await emf({ action: 'acquire', lockId: 'metered', owner: 'b' }, context());
    } finally {
      write.mockRestore();
    }
    const blobs = lines
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map(
        (line) =>
          JSON.parse(line) as Record<string, unknown> & {
            _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] };
          },
      );
    const names = blobs.flatMap((b) =>
      b._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name)),
    );
    expect(blobs.every((b) => b._aws.CloudWatchMetrics[0].Namespace === 'FencedLockTest')).toBe(
      true,
    );
    expect(names.filter((n) => n === 'Grants')).toHaveLength(2);
    expect(names.filter((n) => n === 'Takeovers')).toHaveLength(1);
    expect(names.filter((n) => n === 'Refusals')).toHaveLength(1);
    expect(names.filter((n) => n === 'Latency')).toHaveLength(3);
  });
});

describe('the Lambda entry modules', () => {
  const run = (code: string, env: Record<string, string>) =>
    runNode(['--input-type=module', '-e', code], {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...env,
    });
  const entry = (path: string) => new URL(`../../lambdas/${path}`, import.meta.url).href;

  test('fail at cold start naming the missing variable', async () => {
    const env = { LOCK_TABLE_NAME: '' };
    for (const path of ['http/api.handler.ts', 'direct/invoke.handler.ts']) {
      const result = await run(`await import(${JSON.stringify(entry(path))});`, env);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('LOCK_TABLE_NAME is required');
    }
  });

  test('serve requests with configuration from the environment', async () => {
    const code = `
      const { handler: api } = await import(${JSON.stringify(entry('http/api.handler.ts'))});
      const { handler: invoke } = await import(${JSON.stringify(entry('direct/invoke.handler.ts'))});
      const grant = await invoke({ action: 'acquire', lockId: 'entry', owner: 'e1' }, {});
      const res = await api({ httpMethod: 'GET', resource: '/locks/{lockId}', path: '/locks/entry',
        pathParameters: { lockId: 'entry' }, body: null, isBase64Encoded: false,
        requestContext: { requestId: 'r1' } }, {});
      console.log(JSON.stringify({ grant, res }));`;
    const result = await run(code, {
      LOCK_TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: endpoint(),
      DEFAULT_LEASE_MS: '7000',
    });
    expect(result.stderr).toBe('');
    const { grant, res } = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as {
      grant: { leaseMs: number; token: number };
      res: { statusCode: number; body: string };
    };
    expect(grant.leaseMs).toBe(7_000);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({
      lockId: 'entry',
      held: true,
      owner: 'e1',
      token: grant.token,
    });
  });
});

describe('operator actions on the direct path', () => {
  let workers: InvokeHandler;
  beforeAll(() => {
    workers = createInvokeHandler(serviceFor(tableName), { actions: WORKER_OPERATIONS });
  });

  test("the workers' function refuses forceRelease with AccessDenied, naming no holder, and the lock stays held", async () => {
    const grant = (await workers(
      { action: 'acquire', lockId: 'ops/held', owner: 'team-b-secret-owner', data: { k: 'v' } },
      context(),
    )) as { token: number };
    const { errorType, errorMessage } = await failure(
      { action: 'forceRelease', lockId: 'ops/held' },
      context(),
      workers,
    );
    expect(errorType).toBe('AccessDenied');
    expect(JSON.parse(errorMessage)).toEqual({
      error: 'AccessDenied',
      message: expect.any(String),
    });
    expect(errorMessage).not.toContain('team-b-secret-owner');
    expect(errorMessage).not.toContain(String(grant.token));
    const item = await doc.send(
      new GetCommand({ TableName: tableName, Key: { lockId: 'ops/held' } }),
    );
    expect(item.Item).toMatchObject({ owner: 'team-b-secret-owner', token: grant.token });
    // The operators' function (every action) evicts it.
    expect(await handler({ action: 'forceRelease', lockId: 'ops/held' }, context())).toMatchObject({
      released: true,
    });
  });

  test("the workers' function still runs acquire, renew, release and get", async () => {
    const grant = (await workers(
      { action: 'acquire', lockId: 'ops/worker', owner: 'w1' },
      context(),
    )) as { token: number };
    await workers(
      { action: 'renew', lockId: 'ops/worker', owner: 'w1', token: grant.token },
      context(),
    );
    expect(await workers({ action: 'get', lockId: 'ops/worker' }, context())).toMatchObject({
      held: true,
    });
    expect(
      await workers(
        { action: 'release', lockId: 'ops/worker', owner: 'w1', token: grant.token },
        context(),
      ),
    ).toEqual({ released: true });
  });

  test('readAllowedActions reads LOCK_ACTIONS: unset is every operation, an unknown name fails naming it', () => {
    expect(readAllowedActions({})).toBeUndefined();
    expect(readAllowedActions({ LOCK_ACTIONS: 'acquire, get' })).toEqual(['acquire', 'get']);
    expect(() => readAllowedActions({ LOCK_ACTIONS: 'acquire,toString' })).toThrow(/^LOCK_ACTIONS/);
  });

  test('the deployed entry refuses what LOCK_ACTIONS leaves out', async () => {
    const entry = new URL('../../lambdas/direct/invoke.handler.ts', import.meta.url).href;
    const code = `
      const { handler } = await import(${JSON.stringify(entry)});
      const out = await handler({ action: 'forceRelease', lockId: 'ops/entry' }, {}).then(
        () => 'allowed', (err) => err.name);
      console.log(JSON.stringify(out));`;
    const result = await runNode(['--input-type=module', '-e', code], {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      LOCK_TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: endpoint(),
      LOCK_ACTIONS: WORKER_OPERATIONS.join(','),
    });
    expect(result.stdout.trim().split('\n').at(-1)).toBe('"AccessDenied"');
  });
});

describe("a scope's direct function", () => {
  let teamA: InvokeHandler;
  beforeAll(async () => {
    teamA = createInvokeHandler(serviceFor(tableName), {
      actions: WORKER_OPERATIONS,
      prefixes: readAllowedPrefixes({ LOCK_PREFIXES: '["team-a:"]' }),
    });
    await handler(
      { action: 'acquire', lockId: 'team-b:secret', owner: 'team-b-holder', data: { n: 'b-data' } },
      context(),
    );
  });

  test('serves ids inside its prefixes', async () => {
    const grant = (await teamA(
      { action: 'acquire', lockId: 'team-a:job', owner: 'a1' },
      context(),
    )) as { token: number };
    expect(
      await teamA(
        { action: 'release', lockId: 'team-a:job', owner: 'a1', token: grant.token },
        context(),
      ),
    ).toEqual({ released: true });
  });

  test.each([
    { action: 'get', lockId: 'team-b:secret' },
    { action: 'acquire', lockId: 'team-b:secret', owner: 'team-b-holder' },
    { action: 'release', lockId: 'team-b:secret', owner: 'team-b-holder', token: 1 },
    { action: 'list' },
    { action: 'list', prefix: 'team-b:' },
  ])('refuses %j with AccessDenied naming no holder or data', async (event) => {
    const { errorType, errorMessage } = await failure(event, context(), teamA);
    expect(errorType).toBe('AccessDenied');
    expect(errorMessage).not.toContain('team-b-holder');
    expect(errorMessage).not.toContain('b-data');
    const item = await doc.send(
      new GetCommand({ TableName: tableName, Key: { lockId: 'team-b:secret' } }),
    );
    expect(item.Item).toMatchObject({ owner: 'team-b-holder' });
  });

  test('lists inside its prefixes', async () => {
    const listed = (await teamA({ action: 'list', prefix: 'team-a:' }, context())) as object;
    expect(JSON.stringify(listed)).not.toContain('team-b');
  });

  test('LOCK_PREFIXES: a malformed value fails naming it', () => {
    expect(readAllowedPrefixes({})).toBeUndefined();
    for (const value of ['x', '[]', '[""]', '[1]']) {
      expect(() => readAllowedPrefixes({ LOCK_PREFIXES: value })).toThrow(/^LOCK_PREFIXES/);
    }
  });
});
