// Scoping of API callers by lock-id prefix: the construct passes, in LOCK_API_SCOPES, which IAM
// principals may use which prefixes; the handler reads the caller's IAM ARN from the event.
// An `execute-api` resource ARN is not relied on to match an encoded lock id segment, so the
// check is here, after API Gateway's IAM authorization and the handler's own parsing.
import { FUNCTION_VARIABLES } from '../../lib/contract/function-variables.js';
import {
  isOperation,
  type OperationName,
  OPERATIONS,
  WORKER_OPERATIONS,
} from '../../lib/contract/operations.js';
import { AccessDenied } from '../../lib/core/index.js';
import { ConfigError, readJsonVariable } from '../service/config.js';

/** One scoped principal: an IAM role or user ARN and the lock id prefixes it may use. */
export interface CallerScope {
  /** `arn:aws:iam::123456789012:role/team-a` (or a user's ARN). */
  principal: string;
  prefixes: string[];
  /** The operations its grant names. @default the workers' (no force release) */
  operations?: OperationName[];
}

/** What a scoped principal may do: the union of its scoped grants, as IAM unions their routes. */
export interface CallerAccess {
  readonly prefixes: readonly string[];
  readonly operations: ReadonlySet<OperationName>;
}

/** The scopes by principal key ({@link principalKey}); callers not in it are unscoped. */
export type CallerScopes = ReadonlyMap<string, CallerAccess>;

/**
 * The identity an ARN stands for, so that a role's ARN (what the construct knows) and a
 * session of it (what API Gateway reports: `sts::...:assumed-role/NAME/SESSION`) meet. A role
 * or user path is dropped: IAM names are unique in an account without it.
 *
 * @example principalKey('arn:aws:sts::1:assumed-role/team-a/i-0abc') === principalKey('arn:aws:iam::1:role/svc/team-a')
 */
export function principalKey(arn: string): string {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return arn;
  const [, partition, service, , account] = parts;
  const resource = parts.slice(5).join(':');
  const segments = resource.split('/');
  if (service === 'sts' && segments[0] === 'assumed-role' && segments.length >= 3) {
    return `${partition}:${account}:role/${segments[1]}`;
  }
  if (service === 'iam' && (segments[0] === 'role' || segments[0] === 'user')) {
    return `${partition}:${account}:${segments[0]}/${segments[segments.length - 1]}`;
  }
  return arn;
}

/**
 * Whether `text` has the form {@link principalKey} gives a role or a user
 * (`PARTITION:ACCOUNT:role/NAME`, `PARTITION:ACCOUNT:user/NAME`).
 *
 * @example isPrincipalKey('aws:1:role/team-a') === true
 */
export const isPrincipalKey = (text: string): boolean =>
  /^[^:]+:[^:]*:(?:role|user)\/[^/]+$/.test(text);

/**
 * Reads `LOCK_API_SCOPES`, a JSON array of {@link CallerScope}: unset means no caller is
 * scoped (every IAM-authorized caller reaches every lock its IAM grant allows).
 *
 * @example readCallerScopes({ LOCK_API_SCOPES: '[{"principal":"arn:aws:iam::1:role/a","prefixes":["a/"]}]' })
 */
export function readCallerScopes(env: Record<string, string | undefined>): CallerScopes {
  const scopes = new Map<string, { prefixes: string[]; operations: Set<OperationName> }>();
  const parsed = readJsonVariable(env, FUNCTION_VARIABLES.apiScopes, 'JSON');
  if (parsed === undefined) return scopes;
  if (!Array.isArray(parsed))
    throw new ConfigError(FUNCTION_VARIABLES.apiScopes, 'must be a JSON array');
  for (const entry of parsed as unknown[]) {
    const { principal, prefixes, operations } = (entry ?? {}) as Partial<CallerScope>;
    const valid =
      typeof principal === 'string' &&
      Array.isArray(prefixes) &&
      prefixes.every((p) => typeof p === 'string' && p !== '') &&
      (operations === undefined || (Array.isArray(operations) && operations.every(isOperation)));
    if (!valid) {
      throw new ConfigError(
        FUNCTION_VARIABLES.apiScopes,
        'entries must be { principal, prefixes: [...], operations?: [...] }',
      );
    }
    const key = principalKey(principal);
    const access = scopes.get(key) ?? { prefixes: [], operations: new Set() };
    access.prefixes.push(...prefixes);
    for (const operation of operations ?? WORKER_OPERATIONS) access.operations.add(operation);
    scopes.set(key, access);
  }
  return scopes;
}

/**
 * Reads `LOCK_API_OPERATORS`, the JSON array of the IAM role or user ARNs given
 * `grantOperator`: they are never scoped (an operator acts on every lock). Unset means none.
 *
 * @example readApiOperators({ LOCK_API_OPERATORS: '["arn:aws:iam::1:role/on-call"]' })
 */
export function readApiOperators(env: Record<string, string | undefined>): ReadonlySet<string> {
  const parsed = readJsonVariable(env, FUNCTION_VARIABLES.apiOperators, 'JSON');
  if (parsed === undefined) return new Set();
  if (!Array.isArray(parsed) || !parsed.every((arn) => typeof arn === 'string' && arn !== '')) {
    throw new ConfigError(FUNCTION_VARIABLES.apiOperators, 'must be a JSON array of IAM ARNs');
  }
  return new Set(parsed.map(principalKey));
}

/**
 * What a caller is limited to, or undefined when it is not scoped: no identity (the local
 * server), an operator, or a principal the construct gave no scope (IAM alone decides).
 *
 * @example scopeOf(scopes, operators, event.requestContext.identity.userArn)
 */
export function scopeOf(
  scopes: CallerScopes,
  operators: ReadonlySet<string>,
  callerArn: string | undefined,
): CallerAccess | undefined {
  if (scopes.size === 0 || callerArn === undefined) return undefined;
  const key = principalKey(callerArn);
  return operators.has(key) ? undefined : scopes.get(key);
}

/**
 * Refuses an operation a scoped caller's grants do not name (a force release by a scoped
 * worker, which a broader IAM policy of its own might let through API Gateway).
 *
 * @example checkOperation(access, 'forceRelease') // throws AccessDenied for a worker
 */
export function checkOperation(access: CallerAccess | undefined, operation: OperationName): void {
  if (access === undefined || access.operations.has(operation)) return;
  throw new AccessDenied(
    `${OPERATIONS[operation].method} ${OPERATIONS[operation].path} is not among the operations ` +
      "this caller's scoped grant names" +
      (operation === 'forceRelease' ? ': force release is kept for operators' : ''),
  );
}

/**
 * Refuses a lock id (or a listing prefix) outside the caller's prefixes with `AccessDenied`,
 * whose message names only what the caller sent.
 *
 * @example checkInScope(['team-a/'], 'team-b/x', 'lockId') // throws AccessDenied
 */
export function checkInScope(
  prefixes: readonly string[] | undefined,
  value: string | undefined,
  field: 'lockId' | 'prefix',
): void {
  if (prefixes === undefined) return;
  if (value !== undefined && prefixes.some((prefix) => value.startsWith(prefix))) return;
  throw new AccessDenied(
    field === 'lockId'
      ? 'lockId is outside the prefixes this caller is granted'
      : 'a scoped caller lists only with a prefix inside the prefixes it is granted',
  );
}
