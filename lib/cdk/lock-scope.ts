import { ValidationError } from '../core/errors.js';
import { RESERVED_LOCK_ID_PREFIX } from '../core/validation.js';

/**
 * Which lock ids a grant covers: those that start with one of `prefixes`.
 *
 * @example
 * const teamA: LockScope = { prefixes: ['team-a/'] };
 */
export interface LockScope {
  /**
   * Lock id prefixes, each non-empty, without the IAM wildcards `*` and `?` (a prefix is
   * matched literally, so a wildcard in it would widen the grant) and not starting with U+0000.
   */
  readonly prefixes: readonly string[];
}

/** IAM `StringLike` reads these as wildcards: a prefix holding one would cover more ids than it says. */
const IAM_WILDCARDS = /[*?]/;

/**
 * Checks a scope and returns its prefixes, refusing (at synth) one that would grant more than
 * it names: no prefixes, an empty prefix (every id), a wildcard, or the reserved U+0000.
 *
 * @example parseLockScope({ prefixes: ['team-a/'] }) // ['team-a/']
 */
export function parseLockScope(scope: LockScope): string[] {
  const prefixes: unknown = scope?.prefixes;
  if (!Array.isArray(prefixes) || prefixes.length === 0) {
    throw new ValidationError('prefixes', 'prefixes must be a non-empty array of lock id prefixes');
  }
  for (const prefix of prefixes) {
    if (typeof prefix !== 'string' || prefix.length === 0) {
      throw new ValidationError('prefixes', 'each of prefixes must be a non-empty string');
    }
    if (IAM_WILDCARDS.test(prefix)) {
      throw new ValidationError('prefixes', 'prefixes must not contain the IAM wildcards * or ?');
    }
    if (prefix.startsWith(RESERVED_LOCK_ID_PREFIX)) {
      throw new ValidationError('prefixes', 'prefixes must not start with U+0000 (reserved)');
    }
  }
  return [...new Set(prefixes as string[])];
}

/**
 * The IAM condition that limits DynamoDB item actions to items whose partition key (`lockId`)
 * starts with one of `prefixes`. `ForAllValues` is true when the key is absent, so it only
 * narrows actions that always carry a key (`GetItem`, `UpdateItem`), the only ones it is used with.
 *
 * @example leadingKeysCondition(['team-a/']) // { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['team-a/*'] } }
 */
export function leadingKeysCondition(
  prefixes: readonly string[],
): Record<string, Record<string, unknown>> {
  return {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((prefix) => `${prefix}*`) },
  };
}
