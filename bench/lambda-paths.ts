// The Lambda paths to a lock, timed in this process: the direct-invocation function (Step
// Functions, Lambda.invoke) and the API function behind a REST API or an HTTP API, each called
// with the event its caller sends, over the same handler code the functions deploy.
import { createInvokeHandler } from '../lambdas/direct/invoke.js';
import { createApiHandler } from '../lambdas/http/api.js';
import { readConfig } from '../lambdas/service/config.js';
import { LockUseCase } from '../lambdas/service/lock-use-case.js';
import { type ApiKind, pathFor } from '../lib/contract/http.js';
import { OPERATIONS, type OperationName } from '../lib/contract/operations.js';
import { toApiEvent } from '../local/api-events.js';
import { lambdaContext } from '../local/lambda-context.js';
import type { RequestCounts } from './request-counting-proxy.js';
import { type LatencySummary, summarize } from './stats.js';

/** The ways a caller reaches the lock through Lambda. */
export const LAMBDA_PATHS = ['direct', 'rest', 'http'] as const;
export type LambdaPath = (typeof LAMBDA_PATHS)[number];

export const LAMBDA_PATH_LABELS: Record<LambdaPath, string> = {
  direct: 'ours: direct Lambda invoke',
  rest: 'ours: REST API + Lambda',
  http: 'ours: HTTP API + Lambda',
};

/**
 * The memory the measured durations are priced at: LockService's default `memorySize` on its
 * arm64 functions. The time itself is measured here, on this machine's CPU, which is not a
 * 256 MB Lambda's share of one (see docs/performance.md).
 */
export const BILLED_MEMORY_MB = 256;

/** Handler time and DynamoDB requests of acquire + release cycles on one Lambda path. */
export interface LambdaPathResult {
  cycles: number;
  /** The round trip added to each DynamoDB request while timing (see `--rtt-ms`). */
  rttMs: number;
  /** In-process handler time per invocation, ms: what Lambda would bill, before rounding up. */
  acquire: LatencySummary;
  release: LatencySummary;
  /** Per acquire + release cycle. */
  perCycle: { invocations: number; reads: number; writes: number; readUnits: number };
  errors: number;
  firstError?: string;
}

export interface LambdaPathOptions {
  tableName: string;
  /** Counts (and delays) the handlers' DynamoDB requests. */
  proxy: { endpoint: string; counts(): RequestCounts; reset(): void };
  rttMs: number;
  cycles: number;
  leaseMs: number;
  /** Makes lock ids unique to this run (letters, digits and dashes: any API kind carries them). */
  prefix: string;
}

type Call = (operation: OperationName, lockId: string, body: object) => Promise<unknown>;

/** Warm-up cycles before timing: the first invocation also builds the SDK client. */
const WARMUP_CYCLES = 5;

/**
 * Runs sequential cycles through each path's handler, timing every invocation and attributing
 * the DynamoDB requests it sent.
 *
 * @example
 * const results = await measureLambdaPaths({ tableName: 'bench-http', proxy, rttMs: 4, cycles: 100, leaseMs: 2000, prefix: 'r1' });
 */
export async function measureLambdaPaths(
  options: LambdaPathOptions,
): Promise<Record<LambdaPath, LambdaPathResult>> {
  const results = {} as Record<LambdaPath, LambdaPathResult>;
  for (const path of LAMBDA_PATHS) {
    const service = new LockUseCase(
      readConfig({
        ...process.env,
        LOCK_TABLE_NAME: options.tableName,
        DYNAMODB_ENDPOINT: options.proxy.endpoint,
      }),
    );
    try {
      results[path] = await measurePath(caller(path, service), path, options);
    } finally {
      service.close();
    }
  }
  return results;
}

function caller(path: LambdaPath, service: LockUseCase): Call {
  const context = () => lambdaContext(`bench-${path}`, 30_000);
  if (path === 'direct') {
    const handler = createInvokeHandler(service);
    return (action, lockId, body) => handler({ action, lockId, ...body }, context());
  }
  const handler = createApiHandler(service);
  const kind: ApiKind = path;
  return async (operation, lockId, body) => {
    const ctx = context();
    const event = toApiEvent(kind, {
      method: OPERATIONS[operation].method,
      url: pathFor(operation, lockId),
      rawHeaders: ['content-type', 'application/json'],
      body: JSON.stringify(body),
      requestId: ctx.awsRequestId,
    });
    const result = await handler(event, ctx);
    if (result.statusCode !== 200) throw new Error(`HTTP ${result.statusCode} ${result.body}`);
    return JSON.parse(result.body) as unknown;
  };
}

async function measurePath(
  call: Call,
  path: LambdaPath,
  options: LambdaPathOptions,
): Promise<LambdaPathResult> {
  const acquire: number[] = [];
  const release: number[] = [];
  const totals = { reads: 0, writes: 0, readUnits: 0 };
  let errors = 0;
  let firstError: string | undefined;
  for (let n = -WARMUP_CYCLES; n < options.cycles; n++) {
    const lockId = `${options.prefix}-${path}-${n + WARMUP_CYCLES}`;
    const timed = n >= 0;
    try {
      options.proxy.reset();
      const t0 = performance.now();
      const grant = (await call('acquire', lockId, {
        owner: 'bench',
        leaseMs: options.leaseMs,
      })) as { token: number };
      const t1 = performance.now();
      await call('release', lockId, { owner: 'bench', token: grant.token });
      const t2 = performance.now();
      const counts = options.proxy.counts();
      if (!timed) continue;
      acquire.push(t1 - t0);
      release.push(t2 - t1);
      totals.reads += counts.reads;
      totals.writes += counts.writes;
      totals.readUnits += counts.readUnits;
    } catch (err) {
      errors++;
      firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (errors > 10) break;
    }
  }
  const cycles = acquire.length;
  const per = (x: number) => (cycles === 0 ? Number.NaN : x / cycles);
  return {
    cycles,
    rttMs: options.rttMs,
    acquire: summarize(acquire),
    release: summarize(release),
    perCycle: {
      invocations: 2,
      reads: per(totals.reads),
      writes: per(totals.writes),
      readUnits: per(totals.readUnits),
    },
    errors,
    ...(firstError ? { firstError } : {}),
  };
}
