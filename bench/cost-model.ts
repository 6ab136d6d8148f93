// The cost of one million acquire + release cycles on each path, from the request counts and
// handler durations a run measured and the list prices kept in bench/prices.json.
import { readFileSync } from 'node:fs';
import { BILLED_MEMORY_MB, LAMBDA_PATH_LABELS, type LambdaPathResult } from './lambda-paths.js';
import type { CostResult } from './scenarios.js';

/** bench/prices.json: on-demand list prices, with where and when they were read. */
export interface PriceTable {
  region: string;
  currency: string;
  readOn: string;
  note: string;
  dynamodb: { writeRequestUnitPerMillion: number; readRequestUnitPerMillion: number };
  lambda: { requestsPerMillion: number; arm64GbSecond: number };
  apiGateway: { restRequestsPerMillion: number; httpRequestsPerMillion: number };
}

const PRICES_FILE = new URL('./prices.json', import.meta.url);

/**
 * Reads and checks the price table.
 *
 * @example const prices = loadPrices();
 */
export function loadPrices(file: URL | string = PRICES_FILE): PriceTable {
  const prices = JSON.parse(readFileSync(file, 'utf8')) as PriceTable;
  const figures = {
    'dynamodb.writeRequestUnitPerMillion': prices.dynamodb?.writeRequestUnitPerMillion,
    'dynamodb.readRequestUnitPerMillion': prices.dynamodb?.readRequestUnitPerMillion,
    'lambda.requestsPerMillion': prices.lambda?.requestsPerMillion,
    'lambda.arm64GbSecond': prices.lambda?.arm64GbSecond,
    'apiGateway.restRequestsPerMillion': prices.apiGateway?.restRequestsPerMillion,
    'apiGateway.httpRequestsPerMillion': prices.apiGateway?.httpRequestsPerMillion,
  };
  for (const [name, value] of Object.entries(figures)) {
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new Error(`${String(file)}: ${name} must be a price >= 0, got ${String(value)}`);
    }
  }
  if (!prices.region || !prices.readOn) throw new Error(`${String(file)}: region and readOn`);
  return prices;
}

/** One path's cost of a million cycles, in the table's currency, and what it rests on. */
export interface CostLine {
  /** A system key or a Lambda path. */
  key: string;
  label: string;
  /** Per cycle, as measured. */
  basis: {
    writeUnits: number;
    readUnits: number;
    apiRequests: number;
    invocations: number;
    /** Lambda billed ms of both invocations (each p50 rounded up to 1 ms). */
    billedMs: number;
  };
  dynamodb: number;
  apiGateway: number;
  lambdaRequests: number;
  lambdaDuration: number;
  total: number;
}

const MILLION = 1_000_000;

/**
 * The cost lines: each library path from its counted DynamoDB requests, each Lambda path from
 * its counted requests plus two invocations billed at the p50 handler time of each operation
 * (rounded up to 1 ms, at {@link BILLED_MEMORY_MB} MB arm64), plus two API Gateway requests
 * behind an API.
 *
 * @example
 * const lines = costPerMillionCycles({ library: results.cost.newLock.library }, results.lambdaPaths, prices);
 */
export function costPerMillionCycles(
  libraries: { key: string; label: string; cost: CostResult | undefined }[],
  lambdaPaths: Partial<Record<keyof typeof LAMBDA_PATH_LABELS, LambdaPathResult>>,
  prices: PriceTable,
): CostLine[] {
  const dynamodb = (writeUnits: number, readUnits: number) =>
    writeUnits * prices.dynamodb.writeRequestUnitPerMillion +
    readUnits * prices.dynamodb.readRequestUnitPerMillion;
  const line = (
    key: string,
    label: string,
    basis: CostLine['basis'],
    apiPerMillion: number,
  ): CostLine => {
    const parts = {
      dynamodb: dynamodb(basis.writeUnits, basis.readUnits),
      apiGateway: basis.apiRequests * apiPerMillion,
      lambdaRequests: basis.invocations * prices.lambda.requestsPerMillion,
      // GB-seconds of a million cycles, priced per GB-second.
      lambdaDuration:
        (basis.billedMs / 1000) * (BILLED_MEMORY_MB / 1024) * MILLION * prices.lambda.arm64GbSecond,
    };
    const total = parts.dynamodb + parts.apiGateway + parts.lambdaRequests + parts.lambdaDuration;
    return { key, label, basis, ...parts, total };
  };

  const lines: CostLine[] = [];
  for (const { key, label, cost } of libraries) {
    if (!cost) continue;
    lines.push(
      line(
        key,
        label,
        {
          writeUnits: cost.perCycle.writes,
          readUnits: cost.perCycle.readUnits,
          apiRequests: 0,
          invocations: 0,
          billedMs: 0,
        },
        0,
      ),
    );
  }
  const apiPrice = {
    direct: 0,
    rest: prices.apiGateway.restRequestsPerMillion,
    http: prices.apiGateway.httpRequestsPerMillion,
  };
  for (const [path, label] of Object.entries(LAMBDA_PATH_LABELS) as [
    keyof typeof LAMBDA_PATH_LABELS,
    string,
  ][]) {
    const result = lambdaPaths[path];
    if (!result || result.cycles === 0) continue;
    const { invocations } = result.perCycle;
    lines.push(
      line(
        path,
        label,
        {
          writeUnits: result.perCycle.writes,
          readUnits: result.perCycle.readUnits,
          apiRequests: path === 'direct' ? 0 : invocations,
          invocations,
          billedMs: Math.ceil(result.acquire.p50) + Math.ceil(result.release.p50),
        },
        apiPrice[path],
      ),
    );
  }
  return lines;
}
