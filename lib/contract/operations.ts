// The lock API, defined once: every edge (the HTTP router and transport, the direct handler and
// the Lambda transport, the CDK API and grants, the Step Functions section, lockctl) is derived
// from OPERATIONS. Adding an operation means adding it here and to the core's LockManager.
import { ValidationError } from '../core/errors.js';
import type {
  AcquireOptions,
  Grant,
  LockState,
  ReleaseOptions,
  ReleaseResult,
  RenewOptions,
} from '../core/lock-manager.js';
import { parseLockId } from '../core/validation.js';
import { FIELDS, type FieldLimits, type FieldSpec } from './fields.js';

/** An operation that takes nothing but the lock id. */
export type NoInput = Record<never, never>;

/** What each operation takes (besides the lock id) and answers. */
export interface OperationTypes {
  acquire: { input: AcquireOptions; output: Grant };
  renew: { input: RenewOptions; output: Grant };
  release: { input: ReleaseOptions; output: ReleaseResult };
  get: { input: NoInput; output: LockState };
  forceRelease: { input: NoInput; output: ReleaseResult };
}

export type OperationName = keyof OperationTypes;
export type InputOf<O extends OperationName> = OperationTypes[O]['input'];
export type OutputOf<O extends OperationName> = OperationTypes[O]['output'];

/** One operation on every edge. */
export interface OperationSpec<I> {
  /** HTTP method of its route. */
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Its route, as API Gateway names the resource (`{lockId}` is one URL-encoded segment). */
  readonly path: string;
  /** Its lockctl command. */
  readonly command: string;
  /** Its request fields: exactly the keys of its input type. */
  readonly fields: { readonly [K in keyof I]-?: FieldSpec<NonNullable<I[K]>> };
}

export const OPERATIONS = {
  acquire: {
    method: 'POST',
    path: '/locks/{lockId}/acquire',
    command: 'acquire',
    fields: {
      owner: FIELDS.owner,
      leaseMs: FIELDS.leaseMs,
      waitMs: FIELDS.waitMs,
      data: FIELDS.data,
      permits: FIELDS.permits,
      trackOwner: FIELDS.trackOwner,
    },
  },
  renew: {
    method: 'POST',
    path: '/locks/{lockId}/renew',
    command: 'renew',
    fields: {
      owner: FIELDS.owner,
      token: FIELDS.token,
      leaseMs: FIELDS.leaseMs,
      permits: FIELDS.permits,
    },
  },
  release: {
    method: 'POST',
    path: '/locks/{lockId}/release',
    command: 'release',
    fields: { owner: FIELDS.owner, token: FIELDS.token, permits: FIELDS.permits },
  },
  get: { method: 'GET', path: '/locks/{lockId}', command: 'get', fields: {} },
  forceRelease: { method: 'DELETE', path: '/locks/{lockId}', command: 'force-release', fields: {} },
} as const satisfies { [O in OperationName]: OperationSpec<InputOf<O>> };

/** Every operation's name, in the contract's order. */
export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[];

/**
 * The operations kept for operators: a force release evicts any holder, so no worker grant
 * includes it (the direct function refuses it, `grantInvokeApi`'s default leaves its route out).
 */
export const OPERATOR_OPERATIONS: readonly OperationName[] = Object.freeze(['forceRelease']);

/** The operations a worker is granted: every operation but the operator's. */
export const WORKER_OPERATIONS: readonly OperationName[] = Object.freeze(
  OPERATION_NAMES.filter((name) => !OPERATOR_OPERATIONS.includes(name)),
);

/** The names of an operation's request fields. */
export const fieldNames = (operation: OperationName): string[] =>
  Object.keys(OPERATIONS[operation].fields);

/** @example isOperation('acquire') === true */
export const isOperation = (value: unknown): value is OperationName =>
  typeof value === 'string' && Object.hasOwn(OPERATIONS, value);

/** The fields of every grant, in the order the API answers them (a permit's adds `permits`). */
export const GRANT_FIELDS = [
  'lockId',
  'owner',
  'token',
  'expiresAt',
  'leaseMs',
] as const satisfies readonly (keyof Grant)[];

/** One checked request, whichever edge it came from. */
export type LockRequest = {
  [O in OperationName]: { action: O; lockId: string; options: InputOf<O> };
}[OperationName];

/**
 * Checks the fields of one operation, so bad input is refused with the name of the field
 * before anything is written. Unknown fields must already have been refused by the caller
 * (`parseObject(input, fieldNames(action))`), which knows the input's shape.
 *
 * @example
 * const request = parseLockRequest('acquire', 'orders/42', { owner: 'worker-1', leaseMs: 10_000 });
 */
export function parseLockRequest<O extends OperationName>(
  action: O,
  lockId: unknown,
  input: Record<string, unknown>,
  limits: FieldLimits = {},
): Extract<LockRequest, { action: O }> {
  const id = parseLockId(lockId);
  const options: Record<string, unknown> = {};
  const fields: Record<string, FieldSpec<unknown>> = OPERATIONS[action].fields;
  for (const [name, field] of Object.entries(fields)) {
    const value = input[name];
    if (value === undefined) {
      if (field.required) throw new ValidationError(name, `${name} is required`);
      continue;
    }
    options[name] = field.parse(value, limits);
  }
  return { action, lockId: id, options } as Extract<LockRequest, { action: O }>;
}

/**
 * The request fields of `input` for an operation. Callers often pass a whole grant or options
 * object; the service refuses unknown fields, so only the operation's own are sent.
 *
 * @example requestFields('renew', grant) // { owner, token, leaseMs }
 */
export function requestFields(operation: OperationName, input: object): Record<string, unknown> {
  const values = input as Record<string, unknown>;
  return Object.fromEntries(
    fieldNames(operation)
      .filter((name) => values[name] !== undefined)
      .map((name) => [name, values[name]]),
  );
}
