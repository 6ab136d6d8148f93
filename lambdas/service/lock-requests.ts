import {
  type AcquireOptions,
  type Grant,
  LIMITS,
  type LockState,
  type ReleaseOptions,
  type RenewOptions,
  ValidationError,
} from '../../lib/core/index.js';
import {
  parseData,
  parseLeaseMs,
  parseLockId,
  parseOwner,
  parseToken,
  parseWaitMs,
} from '../../lib/core/validation.js';

/** The operations of the service, spelled as the direct invocation's `action`. */
export const ACTIONS = ['acquire', 'renew', 'release', 'get', 'forceRelease'] as const;
export type Action = (typeof ACTIONS)[number];

/** The input fields each action accepts besides `lockId`; anything else is refused by name. */
export const ACTION_FIELDS: Readonly<Record<Action, readonly string[]>> = {
  acquire: ['owner', 'leaseMs', 'waitMs', 'data'],
  renew: ['owner', 'token', 'leaseMs'],
  release: ['owner', 'token'],
  get: [],
  forceRelease: [],
};

/** One checked request, whichever edge (HTTP or direct invocation) it came from. */
export type LockRequest =
  | { action: 'acquire'; lockId: string; options: AcquireOptions }
  | { action: 'renew'; lockId: string; options: RenewOptions }
  | { action: 'release'; lockId: string; options: ReleaseOptions }
  | { action: 'get'; lockId: string }
  | { action: 'forceRelease'; lockId: string };

/** What an operation answers: a grant, a release outcome, or the lock's state. */
export type LockResponse = Grant | { released: boolean } | LockState;

/** Limits that depend on the edge. */
export interface RequestLimits {
  /** Longest `waitMs` accepted. @default LIMITS.waitMsMax (900,000) */
  maxWaitMs?: number;
  /** Why `maxWaitMs` is lower than the library's own limit, quoted in the 400 message. @default none */
  maxWaitReason?: string;
}

/** @example isAction('acquire') === true */
export const isAction = (value: unknown): value is Action =>
  typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);

function required<T>(fields: Record<string, unknown>, field: string, parse: (v: unknown) => T): T {
  if (fields[field] === undefined) throw new ValidationError(field, `${field} is required`);
  return parse(fields[field]);
}

const optionalLease = (value: unknown): number | undefined =>
  value === undefined ? undefined : parseLeaseMs(value, LIMITS.leaseMsDefault);

function parseWait(value: unknown, limits: RequestLimits): number | undefined {
  if (value === undefined) return undefined;
  const max = limits.maxWaitMs ?? LIMITS.waitMsMax;
  if (limits.maxWaitReason && Number.isInteger(value) && (value as number) > max) {
    throw new ValidationError(
      'waitMs',
      `waitMs must be at most ${max} ${limits.maxWaitReason}, got ${value as number}`,
    );
  }
  return parseWaitMs(value, max);
}

/**
 * Checks the fields of one action with the core validation helpers, so a bad input is refused
 * with the name of the field before anything is written. Unknown fields must already have been
 * refused by the caller (`parseObject(input, ACTION_FIELDS[action])`), which knows the input's
 * shape (an HTTP body, an invocation event).
 *
 * @example
 * const request = parseLockRequest('acquire', 'orders/42', { owner: 'worker-1', leaseMs: 10_000 });
 */
export function parseLockRequest(
  action: Action,
  lockId: unknown,
  fields: Record<string, unknown>,
  limits: RequestLimits = {},
): LockRequest {
  const id = parseLockId(lockId);
  switch (action) {
    case 'acquire': {
      const owner = required(fields, 'owner', parseOwner);
      const leaseMs = optionalLease(fields.leaseMs);
      const waitMs = parseWait(fields.waitMs, limits);
      const data = parseData(fields.data);
      return {
        action,
        lockId: id,
        options: {
          owner,
          ...(leaseMs === undefined ? {} : { leaseMs }),
          ...(waitMs === undefined ? {} : { waitMs }),
          ...(data === undefined ? {} : { data }),
        },
      };
    }
    case 'renew': {
      const owner = required(fields, 'owner', parseOwner);
      const token = required(fields, 'token', parseToken);
      const leaseMs = optionalLease(fields.leaseMs);
      return {
        action,
        lockId: id,
        options: { owner, token, ...(leaseMs === undefined ? {} : { leaseMs }) },
      };
    }
    case 'release': {
      const owner = required(fields, 'owner', parseOwner);
      const token = required(fields, 'token', parseToken);
      return { action, lockId: id, options: { owner, token } };
    }
    case 'get':
    case 'forceRelease':
      return { action, lockId: id };
  }
}
