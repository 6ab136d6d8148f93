import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  FencedOut,
  LockClient,
  LockHeld,
  LockLost,
  LockManager,
  ValidationError,
} from '../../lib/index.js';
import {
  LOCK_METRICS,
  lock,
  type LockedContext,
  type LockLogger,
  type LockMetrics,
  type LockMiddlewareOptions,
  type LockOperations,
} from '../../lib/middy/index.js';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createInvokeHandler, readInvokeHandlerOptions } from '../../lambdas/direct/invoke.js';
import { readConfig } from '../../lambdas/service/config.js';
import { LockUseCase } from '../../lambdas/service/lock-use-case.js';
import { LockService } from '../../lib/cdk/lock-service.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { type LocalLambda, startLocalLambda } from '../../local/lambda-endpoint.js';
import { functionEnvironment } from '../support/local-section.js';
import { startLocalServer, type LocalServer } from '../../local/server.js';
import {
  documentClient,
  dynamoClient,
  endpoint,
  freshItemTable,
  freshLockTable,
} from '../support/dynamodb.js';

/** What a locked handler receives. */
type LockedLambdaContext = Context & LockedContext;
interface Job {
  id: string;
}

let tableName: string;
let itemTable: string;
let doc: DynamoDBDocumentClient;
let server: LocalServer;
let seq = 0;
const jobId = () => `job-${++seq}`;
const lockIdOf = (event: Job) => `jobs/${event.id}`;

beforeAll(async () => {
  tableName = await freshLockTable();
  itemTable = await freshItemTable('orders');
  doc = documentClient();
  server = await startLocalServer({ tableName, dynamodbEndpoint: endpoint(), port: 0 });
});
afterAll(async () => {
  await server.close();
  doc.destroy();
});

/** Reads and operates on the lock table directly, as an operator or a rival would. */
const raw = () => new LockManager({ tableName, client: doc });
/** Fenced reads and writes of the protected items. */
const resources = () => new LockClient({ transport: 'dynamodb', tableName, client: doc });

/** A Lambda context with a real deadline `timeoutMs` away, typed as the locked handler's. */
const contextFor = (timeoutMs = 60_000, requestId?: string) =>
  lambdaContext('locked-fn', timeoutMs, requestId) as LockedLambdaContext;

/** A middy handler around `fn` with the lock middleware. */
function locked<R>(
  fn: (event: Job, context: LockedLambdaContext) => Promise<R>,
  options: Omit<LockMiddlewareOptions<Job, R>, 'lockId'> &
    Partial<Pick<LockMiddlewareOptions<Job, R>, 'lockId'>>,
) {
  return middy(fn).use(lock<Job, R>({ lockId: lockIdOf, ...options }));
}

/** Resolves with the signal's reason once it fires; rejects if it has not within `ms`. */
function abortedWithin(signal: AbortSignal, ms: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve(signal.reason);
    const timer = setTimeout(() => reject(new Error(`signal did not fire within ${ms} ms`)), ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve(signal.reason);
      },
      { once: true },
    );
  });
}

/** How many intervals start before an earlier-starting one has ended. */
function overlaps(intervals: [start: number, end: number][]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let latestEnd = -Infinity;
  let count = 0;
  for (const [start, end] of sorted) {
    if (start < latestEnd) count++;
    latestEnd = Math.max(latestEnd, end);
  }
  return count;
}

/**
 * Counts settled invocations; `opened` resolves once `others` of them have settled, so a holder
 * can keep the lock until every other invocation has tried for it (or `fallbackMs` passed).
 */
function settledGate(others: number, fallbackMs = 20_000) {
  let settled = 0;
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  const fallback = setTimeout(open, fallbackMs);
  void opened.then(() => clearTimeout(fallback));
  return {
    opened,
    track: <T>(invocation: Promise<T>) =>
      invocation.finally(() => {
        if (++settled >= others) open();
      }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const clients: [string, () => LockOperations][] = [
  [
    'a LockClient over dynamodb',
    () => new LockClient({ transport: 'dynamodb', tableName, client: doc }),
  ],
  ['a LockManager', () => new LockManager({ tableName, client: doc })],
];

describe.each(clients)('the lock middleware with %s', (_name, makeClient) => {
  describe('20 concurrent invocations on one key', () => {
    it("with 'wait' all run, one at a time, with increasing tokens", async () => {
      const id = jobId();
      const runs: { start: number; end: number; token: number }[] = [];
      const handler = locked(
        async (_event, context) => {
          const start = performance.now();
          await sleep(20);
          runs.push({ start, end: performance.now(), token: context.lock.token });
          return context.awsRequestId;
        },
        { client: makeClient(), onHeld: 'wait', waitMs: 100_000 },
      );
      const results = await Promise.all(
        Array.from({ length: 20 }, () => handler({ id }, contextFor(120_000))),
      );
      expect(new Set(results).size).toBe(20);
      expect(runs).toHaveLength(20);
      expect(overlaps(runs.map((r) => [r.start, r.end]))).toBe(0);
      const tokens = [...runs].sort((a, b) => a.start - b.start).map((r) => r.token);
      expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
      expect(new Set(tokens).size).toBe(20);
      expect((await raw().get(lockIdOf({ id }))).held).toBe(false);
    }, 150_000);

    it("with 'skip' only the invocation that found it free runs; the others answer skipResponse naming it", async () => {
      const id = jobId();
      const gate = settledGate(19);
      const ran: string[] = [];
      const intervals: [number, number][] = [];
      type Outcome = { ran: string } | { skipped: string; holder: string };
      const handler = locked<Outcome>(
        async (_event, context) => {
          const start = performance.now();
          ran.push(context.awsRequestId);
          await gate.opened; // hold the lock until every other invocation has tried
          intervals.push([start, performance.now()]);
          return { ran: context.awsRequestId };
        },
        {
          client: makeClient(),
          onHeld: 'skip',
          skipResponse: (_event, context, held) => ({
            skipped: String(context.awsRequestId),
            holder: held.owner,
          }),
        },
      );
      const results = await Promise.all(
        Array.from({ length: 20 }, () => gate.track(handler({ id }, contextFor()))),
      );
      const runners = results.flatMap((r) => ('ran' in r ? [r.ran] : []));
      const skipped = results.flatMap((r) => ('skipped' in r ? [r] : []));
      expect(runners).toHaveLength(1);
      expect(ran).toEqual(runners);
      expect(skipped).toHaveLength(19);
      expect(skipped.every(({ holder }) => holder === runners[0])).toBe(true);
      expect(skipped.some(({ skipped: requestId }) => ran.includes(requestId))).toBe(false);
      expect(overlaps(intervals)).toBe(0);
      expect((await raw().get(lockIdOf({ id }))).held).toBe(false);
    });

    it("with 'throw' (the default) the others fail with LockHeld naming the holder", async () => {
      const id = jobId();
      const gate = settledGate(19);
      let runs = 0;
      const handler = locked(
        async (_event, context) => {
          runs++;
          await gate.opened;
          return context.awsRequestId;
        },
        { client: makeClient() },
      );
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () => gate.track(handler({ id }, contextFor()))),
      );
      const done = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
      expect(runs).toBe(1);
      expect(done).toHaveLength(1);
      expect(refusals).toHaveLength(19);
      for (const refusal of refusals) {
        expect(refusal).toBeInstanceOf(LockHeld);
        expect((refusal as LockHeld).owner).toBe(done[0]);
      }
      expect((await raw().get(lockIdOf({ id }))).held).toBe(false);
    });
  });

  it('fires signal when the lock is force-released during the handler; a fenced write after it is refused', async () => {
    const id = jobId();
    const lockId = lockIdOf({ id });
    const target = { tableName: itemTable, key: { id } };
    let reason: unknown;
    const handler = locked(
      async (_event, context) => {
        const { token, signal } = context.lock;
        await resources().fencedWrite({ ...target, token, set: { by: 'handler' } });
        await raw().forceRelease(lockId);
        reason = await abortedWithin(signal, 10_000);
        // Someone else takes the lock and writes; then the handler, too late, tries again.
        const rival = await raw().acquire(lockId, { owner: 'rival', leaseMs: 30_000 });
        await resources().fencedWrite({ ...target, token: rival.token, set: { by: 'rival' } });
        await resources().fencedWrite({ ...target, token, set: { by: 'late handler' } });
        return 'unreachable';
      },
      { client: makeClient(), leaseMs: 3_000 },
    );
    await expect(handler({ id }, contextFor())).rejects.toBeInstanceOf(FencedOut);
    expect(reason).toBeInstanceOf(LockLost);
    const item = await resources().fencedRead({ ...target, token: Number.MAX_SAFE_INTEGER });
    expect(item).toMatchObject({ by: 'rival' });
    // The middleware's release found its grant gone and left the rival's alone.
    expect(await raw().get(lockId)).toMatchObject({ held: true, owner: 'rival' });
  });

  it('releases when the handler throws, and rethrows its own error unchanged', async () => {
    const id = jobId();
    const failure = new TypeError('order is malformed');
    let token = 0;
    const handler = locked(
      async (_event, context) => {
        token = context.lock.token;
        throw failure;
      },
      { client: makeClient() },
    );
    const thrown = await handler({ id }, contextFor()).catch((err: unknown) => err);
    expect(thrown).toBe(failure);
    expect(thrown).toMatchObject({ name: 'TypeError', message: 'order is malformed' });
    const state = await raw().get(lockIdOf({ id }));
    expect(state.held).toBe(false);
    expect(state.token).toBe(token);
  });

  it('fires signal before the function would time out, and releases', async () => {
    const id = jobId();
    let seen: { reason: unknown; remainingMs: number } | undefined;
    const handler = locked(
      async (_event, context) => {
        const reason = await abortedWithin(context.lock.signal, 10_000);
        seen = { reason, remainingMs: context.getRemainingTimeInMillis() };
        return 'stopped in time';
      },
      { client: makeClient(), leaseMs: 30_000, timeoutMarginMs: 2_000 },
    );
    await expect(handler({ id }, contextFor(4_000))).resolves.toBe('stopped in time');
    expect(seen?.reason).toBeInstanceOf(LockLost);
    expect((seen?.reason as LockLost).message).toMatch(/times out/);
    expect(seen?.remainingMs).toBeGreaterThan(0);
    expect((await raw().get(lockIdOf({ id }))).held).toBe(false);
  });

  it("with 'wait' gives up before the invocation's time is out, as LockHeld", async () => {
    const id = jobId();
    await raw().acquire(lockIdOf({ id }), { owner: 'holder', leaseMs: 30_000 });
    let ran = false;
    const handler = locked(
      async () => {
        ran = true;
      },
      { client: makeClient(), onHeld: 'wait', waitMs: 60_000, timeoutMarginMs: 2_000 },
    );
    const context = contextFor(4_000);
    await expect(handler({ id }, context)).rejects.toBeInstanceOf(LockHeld);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(ran).toBe(false);
  });

  describe('when another middleware ends the invocation early', () => {
    /** A real middleware used after the lock: a cache that answers some events itself. */
    const cache = (answer: (event: Job) => unknown) => ({
      before: async (request: { event: Job }) => answer(request.event),
    });

    it('releases when a later before returns a response', async () => {
      const id = jobId();
      let ran = false;
      const handler = locked(
        async () => {
          ran = true;
          return 'computed';
        },
        { client: makeClient() },
      ).use(cache(() => 'cached'));
      await expect(handler({ id }, contextFor())).resolves.toBe('cached');
      expect(ran).toBe(false);
      const state = await raw().get(lockIdOf({ id }));
      expect(state.token).toBeDefined(); // it was acquired...
      expect(state.held).toBe(false); // ...and released before the invocation answered
    });

    it('releases when a later before sets an undefined early response', async () => {
      const id = jobId();
      const handler = locked(async () => 'computed', { client: makeClient() }).use({
        before: async (request) => {
          request.earlyResponse = undefined;
        },
      });
      await expect(handler({ id }, contextFor())).resolves.toBeUndefined();
      const state = await raw().get(lockIdOf({ id }));
      expect(state.token).toBeDefined();
      expect(state.held).toBe(false);
    });

    it('releases when a later after returns a response', async () => {
      const id = jobId();
      const handler = locked(async () => 'computed', { client: makeClient() }).use({
        after: async () => 'replaced',
      });
      await expect(handler({ id }, contextFor())).resolves.toBe('replaced');
      const state = await raw().get(lockIdOf({ id }));
      expect(state.token).toBeDefined();
      expect(state.held).toBe(false);
    });
  });

  it('owns the lock as the request id, so a retry after a crash is not refused by its own grant', async () => {
    const id = jobId();
    // An earlier attempt of this very request crashed while holding the lock.
    const crashed = await raw().acquire(lockIdOf({ id }), { owner: 'request-1', leaseMs: 30_000 });
    const handler = locked(
      async (_event, context) => ({ owner: context.lock.owner, token: context.lock.token }),
      { client: makeClient() },
    );
    await expect(handler({ id }, contextFor(60_000, 'request-2'))).rejects.toBeInstanceOf(LockHeld);
    await expect(handler({ id }, contextFor(60_000, 'request-1'))).resolves.toEqual({
      owner: 'request-1',
      token: crashed.token,
    });
    expect((await raw().get(lockIdOf({ id }))).held).toBe(false);
  });

  it('takes the owner from the owner option when given', async () => {
    const id = jobId();
    const handler = locked(async (_event, context) => context.lock.owner, {
      client: makeClient(),
      owner: (event) => `worker-for-${event.id}`,
    });
    await expect(handler({ id }, contextFor())).resolves.toBe(`worker-for-${id}`);
  });

  it('refuses a lockId function answer that is not a lock id, naming the option', async () => {
    const handler = middy(async () => 'ran').use(lock({ client: makeClient(), lockId: () => '' }));
    const refusal = handler({}, contextFor());
    await expect(refusal).rejects.toBeInstanceOf(ValidationError);
    await expect(refusal).rejects.toMatchObject({ field: 'lockId' });
  });
});

describe('the lock middleware over the HTTP API', () => {
  const httpClient = () => new LockClient({ transport: 'http', endpoint: server.url });

  it('acquires, gives the handler its token, renews and releases', async () => {
    const id = jobId();
    const handler = locked(
      async (_event, context) => {
        const during = await raw().get(lockIdOf({ id }));
        await sleep(1_500); // past a third of the lease: renewed at least once
        return { during, lock: { ...context.lock }, aborted: context.lock.signal.aborted };
      },
      { client: httpClient(), leaseMs: 1_000 },
    );
    const context = contextFor();
    const result = await handler({ id }, context);
    expect(result.during).toMatchObject({
      held: true,
      owner: context.awsRequestId,
      token: result.lock.token,
    });
    expect(result.lock).toMatchObject({ lockId: lockIdOf({ id }), owner: context.awsRequestId });
    expect(result.aborted).toBe(false);
    expect((await raw().get(lockIdOf({ id }))).held).toBe(false);
  });

  it("surfaces LockHeld with 'throw' and answers skipResponse with 'skip'", async () => {
    const id = jobId();
    await raw().acquire(lockIdOf({ id }), { owner: 'holder', leaseMs: 30_000 });
    const throwing = locked(async () => 'ran', { client: httpClient() });
    await expect(throwing({ id }, contextFor())).rejects.toMatchObject({
      name: 'LockHeld',
      owner: 'holder',
    });
    const skipping = locked(async () => 'ran', {
      client: httpClient(),
      onHeld: 'skip',
      skipResponse: 'skipped',
    });
    await expect(skipping({ id }, contextFor())).resolves.toBe('skipped');
  });
});

describe("the lock middleware on a scoped service (a scope's function, by Lambda invoke)", () => {
  let endpointOfLambda: LocalLambda;
  let service: LockUseCase;
  let lambdaClient: LambdaClient;
  const teamA = () =>
    new LockClient({ transport: 'lambda', functionName: 'team-a-locks', client: lambdaClient });

  beforeAll(async () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Scoped');
    new LockService(stack, 'Locks').scopedFunction({ prefixes: ['team-a/'] });
    // The scope's function as deployed: its handler options from its synthesized environment.
    const env = functionEnvironment(Template.fromStack(stack), 'LocksScopedFunction');
    service = new LockUseCase(
      readConfig({ LOCK_TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint() }),
    );
    endpointOfLambda = await startLocalLambda({
      'team-a-locks': createInvokeHandler(service, readInvokeHandlerOptions(env)),
    });
    lambdaClient = new LambdaClient({
      endpoint: endpointOfLambda.url,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
  afterAll(async () => {
    await endpointOfLambda.close();
    service.close();
    lambdaClient.destroy();
  });

  it('locks inside the scope: the handler runs with its token, and the lock is released', async () => {
    const id = jobId();
    const handler = locked(async (_event, context) => ({ ...context.lock }), {
      client: teamA(),
      lockId: (event) => `team-a/${event.id}`,
    });
    const grant = await handler({ id }, contextFor());
    expect(grant).toMatchObject({ lockId: `team-a/${id}`, token: expect.any(Number) });
    expect((await raw().get(`team-a/${id}`)).held).toBe(false);
  });

  it('fails AccessDenied outside the scope, without running the handler or touching the lock', async () => {
    const id = jobId();
    let ran = false;
    const handler = locked(
      async () => {
        ran = true;
      },
      { client: teamA(), lockId: (event) => `team-b/${event.id}` },
    );
    await expect(handler({ id }, contextFor())).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(ran).toBe(false);
    expect(await raw().get(`team-b/${id}`)).toMatchObject({ held: false });
    expect((await raw().get(`team-b/${id}`)).token).toBeUndefined();
  });
});

describe('logs and metrics', () => {
  /** Records what the middleware logs and counts. */
  function recorder() {
    const logs: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
    const at =
      (level: string) =>
      (message: string, attributes: Record<string, unknown>): void => {
        logs.push({ level, message, attributes });
      };
    const logger: LockLogger = {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
    };
    const counts = new Map<string, number>();
    const metrics: LockMetrics = {
      addMetric: (name, _unit, value) => counts.set(name, (counts.get(name) ?? 0) + value),
    };
    return { logs, counts, logger, metrics };
  }

  it('logs and counts an acquisition, a refusal and a loss', async () => {
    const client = new LockManager({ tableName, client: doc });
    const { logs, counts, logger, metrics } = recorder();
    const id = jobId();
    const handler = locked(
      async (_event, context) => {
        await raw().forceRelease(lockIdOf({ id }));
        await abortedWithin(context.lock.signal, 10_000);
      },
      { client, leaseMs: 3_000, logger, metrics },
    );
    await handler({ id }, contextFor());
    await raw().acquire(lockIdOf({ id }), { owner: 'holder' });
    await expect(handler({ id }, contextFor())).rejects.toBeInstanceOf(LockHeld);
    expect(Object.fromEntries(counts)).toEqual({
      [LOCK_METRICS.acquired]: 1,
      [LOCK_METRICS.lost]: 1,
      [LOCK_METRICS.held]: 1,
    });
    expect(logs.map(({ level, message }) => `${level} ${message}`)).toEqual([
      'info lock acquired',
      'warn lock lost while the handler ran',
      'debug lock released',
      'info lock held by another owner',
    ]);
    expect(logs[0].attributes).toMatchObject({ lockId: lockIdOf({ id }) });
    expect(logs[2].attributes).toMatchObject({ released: false });
  });

  it('never lets a failed release fail the invocation or hide its error', async () => {
    const { logs, counts, logger, metrics } = recorder();
    const failure = new Error('handler failed');
    /** A handler whose lock table is deleted while it runs: its renews and release then fail. */
    const doomed = async () => {
      const table = await freshLockTable('doomed');
      const client = new LockManager({ tableName: table, client: doc });
      return middy(async (event: { fail: boolean }) => {
        const ddb = dynamoClient();
        await ddb.send(new DeleteTableCommand({ TableName: table }));
        ddb.destroy();
        if (event.fail) throw failure;
        return 'done';
      }).use(lock({ client, lockId: 'doomed', logger, metrics }));
    };
    await expect((await doomed())({ fail: true }, contextFor())).rejects.toBe(failure);
    await expect((await doomed())({ fail: false }, contextFor())).resolves.toBe('done');
    expect(counts.get(LOCK_METRICS.releaseFailed)).toBe(2);
    const warnings = logs.filter(({ level }) => level === 'warn').map(({ message }) => message);
    expect(warnings).toEqual([
      'lock release failed; its lease will end by itself',
      'lock release failed; its lease will end by itself',
    ]);
  });

  it("accepts Powertools' Logger and Metrics, and flushes logMetrics' metrics when it skips", async () => {
    const logger: LockLogger = new Logger({ serviceName: 'locked-fn' });
    const metrics = new Metrics({ namespace: 'fenced-lock-test', serviceName: 'locked-fn' });
    const fits: LockMetrics = metrics;
    const id = jobId();
    await raw().acquire(lockIdOf({ id }), { owner: 'holder', leaseMs: 30_000 });
    const handler = middy(async (_event: Job, _context: LockedLambdaContext) => 'ran')
      .use(logMetrics(metrics))
      .use(
        lock({
          client: raw(),
          lockId: lockIdOf,
          onHeld: 'skip',
          skipResponse: 'skipped',
          logger,
          metrics: fits,
        }),
      );
    await expect(handler({ id }, contextFor())).resolves.toBe('skipped');
    // logMetrics' own after hook was skipped by the early response; its cleanup published
    // (and so cleared) the LockSkipped metric the middleware had just added.
    expect(metrics.hasStoredMetrics()).toBe(false);
  });
});
