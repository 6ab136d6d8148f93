import { ValidationError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import {
  type LockData,
  parseData,
  parseFlag,
  parseLeaseMs,
  parseOwner,
  parsePermits,
  parseToken,
  parseWaitMs,
} from '../core/validation.js';

/** Limits that depend on the edge a request came through. */
export interface FieldLimits {
  /** Longest `waitMs` accepted. @default LIMITS.waitMsMax (900,000) */
  maxWaitMs?: number;
  /** Why `maxWaitMs` is lower than the library's own limit, quoted in the 400 message. @default none */
  maxWaitReason?: string;
}

/** How lockctl reads a flag's text before the field's own check. */
export type FlagKind = 'string' | 'integer' | 'duration' | 'json' | 'boolean';

/** One request field: whether it is required, how it is checked, how lockctl spells it. */
export interface FieldSpec<T> {
  readonly required: boolean;
  /** Checks a JSON value, throwing a `ValidationError` that names the field. */
  readonly parse: (value: unknown, limits: FieldLimits) => T;
  /** lockctl's flag: `--${name} ${placeholder}`. */
  readonly flag: { readonly name: string; readonly kind: FlagKind; readonly placeholder: string };
}

function parseWait(value: unknown, limits: FieldLimits): number {
  const max = limits.maxWaitMs ?? LIMITS.waitMsMax;
  if (limits.maxWaitReason && Number.isInteger(value) && (value as number) > max) {
    throw new ValidationError(
      'waitMs',
      `waitMs must be at most ${max} ${limits.maxWaitReason}, got ${value as number}`,
    );
  }
  return parseWaitMs(value, max);
}

/** The fields of the lock operations, each defined once. */
export const FIELDS = {
  owner: {
    required: true,
    parse: (value) => parseOwner(value),
    flag: { name: 'owner', kind: 'string', placeholder: 'ID' },
  } satisfies FieldSpec<string>,
  token: {
    required: true,
    parse: (value) => parseToken(value),
    flag: { name: 'token', kind: 'integer', placeholder: 'N' },
  } satisfies FieldSpec<number>,
  leaseMs: {
    required: false,
    parse: (value) => parseLeaseMs(value, LIMITS.leaseMsDefault),
    flag: { name: 'lease', kind: 'duration', placeholder: '30s' },
  } satisfies FieldSpec<number>,
  waitMs: {
    required: false,
    parse: parseWait,
    flag: { name: 'wait', kind: 'duration', placeholder: '0s' },
  } satisfies FieldSpec<number>,
  data: {
    required: false,
    parse: (value) => parseData(value) as LockData,
    flag: { name: 'data', kind: 'json', placeholder: 'JSON' },
  } satisfies FieldSpec<LockData>,
  permits: {
    required: false,
    parse: (value) => parsePermits(value),
    flag: { name: 'permits', kind: 'integer', placeholder: 'N' },
  } satisfies FieldSpec<number>,
  trackOwner: {
    required: false,
    parse: (value) => parseFlag('trackOwner', value),
    flag: { name: 'track-owner', kind: 'boolean', placeholder: '' },
  } satisfies FieldSpec<boolean>,
} as const;
