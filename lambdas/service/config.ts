import { MAX_HTTP_WAIT_CEILING_MS, MAX_HTTP_WAIT_MS_DEFAULT } from '../../lib/contract/http.js';
import { LIMITS, ValidationError } from '../../lib/core/index.js';
import { parseInteger } from '../../lib/core/validation.js';

/** The service's settings, read once from the environment at cold start. */
export interface ServiceConfig {
  /** `LOCK_TABLE_NAME`: the locks table (partition key `lockId`, TTL attribute `ttl`). */
  tableName: string;
  /** `DEFAULT_LEASE_MS`: lease of an acquire that names none. @default 30,000 */
  defaultLeaseMs: number;
  /** `RETENTION_MS`: how long an unused lock item is kept before TTL may delete it. @default 3,600,000 (1 h) */
  retentionMs: number;
  /**
   * `MAX_HTTP_WAIT_MS`: the longest `waitMs` the HTTP API accepts, so that an acquire answers
   * before API Gateway's 29 s integration timeout. @default 25,000
   */
  maxHttpWaitMs: number;
  /** `DYNAMODB_ENDPOINT`: a local DynamoDB (DynamoDB Local); unset in AWS. @default the AWS endpoint */
  dynamodbEndpoint?: string;
  /** `POWERTOOLS_SERVICE_NAME`: the `service` key of logs and the metrics dimension. @default `fenced-lock` */
  serviceName: string;
  /** `POWERTOOLS_METRICS_NAMESPACE`: the CloudWatch namespace of the metrics. @default `FencedLock` */
  metricsNamespace: string;
}

/** A setting in the environment is missing or malformed; the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    /** What is wrong, after the variable's name. */
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`${variable} ${problem}`, options);
    this.name = 'ConfigError';
  }
}

// DynamoDB's own rule for table names.
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

type Env = Record<string, string | undefined>;

function integer(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new ConfigError(variable, `must be a whole number of milliseconds, got "${raw}"`);
  }
  try {
    return parseInteger(variable, Number(raw), min, max);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    // The core's message already starts with the variable's name.
    throw new ConfigError(variable, err.message.slice(variable.length + 1), { cause: err });
  }
}

/**
 * Reads and checks the service configuration, failing fast with an error that names the
 * variable, so a misconfigured function fails its cold start instead of its first request.
 *
 * @example
 * const config = readConfig(process.env); // throws ConfigError('LOCK_TABLE_NAME', ...) when unset
 */
export function readConfig(env: Env = process.env): ServiceConfig {
  const tableName = env.LOCK_TABLE_NAME?.trim() ?? '';
  if (tableName === '') {
    throw new ConfigError('LOCK_TABLE_NAME', 'is required: set it to the name of the locks table');
  }
  if (!TABLE_NAME.test(tableName)) {
    throw new ConfigError(
      'LOCK_TABLE_NAME',
      'must be a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)',
    );
  }
  const endpoint = env.DYNAMODB_ENDPOINT?.trim();
  if (endpoint && !isHttpUrl(endpoint)) {
    throw new ConfigError('DYNAMODB_ENDPOINT', `must be an http(s) URL, got "${endpoint}"`);
  }
  return {
    tableName,
    defaultLeaseMs: integer(
      env,
      'DEFAULT_LEASE_MS',
      LIMITS.leaseMsDefault,
      LIMITS.leaseMsMin,
      LIMITS.leaseMsMax,
    ),
    retentionMs: integer(env, 'RETENTION_MS', LIMITS.retentionMsDefault, 0, LIMITS.retentionMsMax),
    maxHttpWaitMs: integer(
      env,
      'MAX_HTTP_WAIT_MS',
      MAX_HTTP_WAIT_MS_DEFAULT,
      0,
      MAX_HTTP_WAIT_CEILING_MS,
    ),
    ...(endpoint ? { dynamodbEndpoint: endpoint } : {}),
    serviceName: env.POWERTOOLS_SERVICE_NAME?.trim() || 'fenced-lock',
    metricsNamespace: env.POWERTOOLS_METRICS_NAMESPACE?.trim() || 'FencedLock',
  };
}

/**
 * The parsed JSON value of `variable`, or undefined when it is unset or blank; text that is not
 * JSON fails the cold start with a `ConfigError` naming the variable and `expected`.
 *
 * @example readJsonVariable(process.env, 'LOCK_PREFIXES', 'a JSON array of prefixes')
 */
export function readJsonVariable(env: Env, variable: string, expected: string): unknown {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    throw new ConfigError(variable, `must be ${expected}`, { cause: err });
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
