// How a semaphore keeps its permits in its one item: under keys derived from the owner (never
// the owner itself, which is a caller's string and must not become a JavaScript property name),
// each entry holding its owner; and how large a permit may be so that N of them always fit.
import { createHash } from 'node:crypto';
import { ValidationError } from './errors.js';
import { LIMITS } from './limits.js';
import type { LockItem, PermitEntry } from './lock-item.js';
import { utf8Length } from './validation.js';

/**
 * The key of `owner`'s permit in `holders` and `permitTokens`: "p" and the first 128 bits of
 * the owner's SHA-256 in base64url, 23 ASCII bytes whatever the owner. No caller string is ever
 * a key (so `__proto__` or `constructor` are owners like any other), and every key is the same
 * size, which the size arithmetic below relies on. Two owners with one key would need a
 * SHA-256 collision; even then the entry's own `owner` is checked, so they could not share a
 * permit.
 *
 * @example permitKey('__proto__') // 'p' + 22 base64url characters
 */
export const permitKey = (owner: string): string =>
  `p${createHash('sha256').update(owner, 'utf8').digest('base64url').slice(0, 22)}`;

const PERMIT_KEY_BYTES = 23;

/** One permit as read from a semaphore's item. */
export interface StoredPermit {
  key: string;
  owner: string;
  /** Undefined only in an item no version of this code wrote. */
  token: number | undefined;
  expiresAt: number;
  leaseMs: number;
  acquiredAt?: number;
  data?: string;
}

/**
 * The permits of a semaphore's item, expired ones included, read with own-property semantics
 * only. An entry written before owners were kept inside entries stands for the owner its key
 * names.
 *
 * @example permitsOf(item).filter((p) => p.expiresAt > now).length
 */
export function permitsOf(item: LockItem | undefined): StoredPermit[] {
  const tokens = new Map<string, unknown>(Object.entries(item?.permitTokens ?? {}));
  return Object.entries(item?.holders ?? {}).map(([key, entry]: [string, PermitEntry]) => {
    const token = tokens.get(key);
    return {
      key,
      owner: typeof entry.owner === 'string' ? entry.owner : key,
      token: typeof token === 'number' ? token : undefined,
      expiresAt: entry.expiresAt,
      leaseMs: entry.leaseMs,
      ...(entry.acquiredAt === undefined ? {} : { acquiredAt: entry.acquiredAt }),
      ...(entry.data === undefined ? {} : { data: entry.data }),
    };
  });
}

/**
 * `owner`'s permit in the item, expired or not, if it has one.
 *
 * @example permitOf(item, 'worker-1')?.token
 */
export const permitOf = (item: LockItem | undefined, owner: string): StoredPermit | undefined => {
  const key = permitKey(owner);
  return permitsOf(item).find((permit) => permit.key === key && permit.owner === owner);
};

// ---- sizes, as DynamoDB counts them --------------------------------------------------------
// An attribute or map element costs its name's UTF-8 bytes plus its value's size; a map 3 bytes
// plus 1 per element; a string its UTF-8 bytes; a number 1 byte per 2 significant digits plus 1,
// so at most 9 for any safe integer (16 digits).

const NUMBER_MAX_BYTES = 9;
const MAP_BYTES = 3;
const ELEMENT_BYTES = 1;
const utf8 = utf8Length;

/**
 * The most one permit adds to its semaphore's item: its `holders` entry
 * (`{ owner, expiresAt, leaseMs, acquiredAt, data? }`) and its `permitTokens` entry, numbers at
 * their largest.
 *
 * @example permitBytes(256, undefined) === 378
 */
export function permitBytes(ownerBytes: number, dataBytes: number | undefined): number {
  const entry =
    MAP_BYTES +
    (utf8('owner') + ownerBytes + ELEMENT_BYTES) +
    (utf8('expiresAt') + NUMBER_MAX_BYTES + ELEMENT_BYTES) +
    (utf8('leaseMs') + NUMBER_MAX_BYTES + ELEMENT_BYTES) +
    (utf8('acquiredAt') + NUMBER_MAX_BYTES + ELEMENT_BYTES) +
    (dataBytes === undefined ? 0 : utf8('data') + dataBytes + ELEMENT_BYTES);
  const holder = PERMIT_KEY_BYTES + entry + ELEMENT_BYTES;
  const token = PERMIT_KEY_BYTES + NUMBER_MAX_BYTES + ELEMENT_BYTES;
  return holder + token;
}

/**
 * The bytes each of N permits may take in the item of `lockId`: DynamoDB's item limit, less
 * the lock id and the reserve for the item's other attributes, shared equally.
 *
 * @example permitBudget('pool', 1000) === 407
 */
export const permitBudget = (lockId: string, permits: number): number =>
  Math.floor(
    (LIMITS.itemMaxBytes - (utf8('lockId') + utf8(lockId)) - LIMITS.semaphoreReservedBytes) /
      permits,
  );

/**
 * Refuses, before anything is written, a permit that could not fit if all N permits were as
 * large as it: so a semaphore whose every permit passed this check fits in one item, however
 * full. Names `owner` when the owner alone is too long for N permits, `data` otherwise.
 *
 * @example checkPermitFits('pool', 'worker-1', 1000, { job: 7 })
 */
export function checkPermitFits(
  lockId: string,
  owner: string,
  permits: number,
  data: object | undefined,
): void {
  const budget = permitBudget(lockId, permits);
  const ownerBytes = utf8(owner);
  if (permitBytes(ownerBytes, undefined) > budget) {
    throw new ValidationError(
      'owner',
      `owner must be at most ${budget - permitBytes(0, undefined)} bytes of UTF-8 for a ` +
        `semaphore of ${permits} permits on this lock id (all ${permits} must fit in one ` +
        `${LIMITS.itemMaxBytes}-byte item), got ${ownerBytes}`,
    );
  }
  if (data === undefined) return;
  const dataBytes = utf8(JSON.stringify(data));
  if (permitBytes(ownerBytes, dataBytes) > budget) {
    throw new ValidationError(
      'data',
      `data must serialize to at most ${budget - permitBytes(ownerBytes, 0)} bytes with this ` +
        `owner for a semaphore of ${permits} permits on this lock id (all ${permits} must fit ` +
        `in one ${LIMITS.itemMaxBytes}-byte item), got ${dataBytes}`,
    );
  }
}
