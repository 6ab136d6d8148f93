// A lock's history on its own item, kept by the grant write itself (no extra request): when the
// current grant began (`acquiredAt`) and how many times the lock has changed hands
// (`transitions`, Kubernetes' `leaseTransitions`). A grant to an owner other than the last one
// (a takeover of an expired lease, a handoff after a release or a force release) counts; a new
// grant to the owner that had the last one does not, nor does a retry given its grant back.
//
// An update expression cannot compare values, so the last grant's owner is kept as the only key
// of a map (`lastHolder`): `if_not_exists(lastHolder.<key of the caller>, 1)` is 0 when the
// caller had the last grant and 1 otherwise, and is what the write adds. The key is a digest of
// the owner, never the caller's own string (owners are hostile input: no object keys).
import { namesOf } from './lock-item.js';
import { permitKey } from './semaphore-item.js';

/**
 * The part of a lock's grant write that records its history, for an `UpdateExpression`'s SET
 * clause (starting with `, `; uses the write's `:now` and `:one`). A new item's first grant counts 0
 * transitions.
 *
 * @example const history = historyUpdate('worker-1');
 */
export function historyUpdate(owner: string): {
  set: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  // The same digest key a semaphore keeps an owner's permit under.
  const key = permitKey(owner);
  return {
    set:
      ', #acquiredAt = :now, ' +
      '#transitions = if_not_exists(#transitions, :noGrantYet) + if_not_exists(#lastHolder.#holderKey, :one), ' +
      '#lastHolder = :lastHolder',
    names: { ...namesOf('acquiredAt', 'transitions', 'lastHolder'), '#holderKey': key },
    // The key is a digest we made, so it can be an object key.
    values: { ':noGrantYet': -1, ':lastHolder': { [key]: 0 } },
  };
}
