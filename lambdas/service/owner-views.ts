// Rewrites the owners in an answer or a refusal as one edge shows them to its caller (see
// lambdas/http/bound-owners.ts and the workers' direct function).
import { type ListResult, LockHeld, type LockState } from '../../lib/core/index.js';
import type { LockResponse } from './lock-use-case.js';

/** How one caller sees an owner stored in the table. */
export type OwnerView = (owner: string) => string;

function viewState(state: LockState, view: OwnerView): LockState {
  return {
    ...state,
    ...(state.owner === undefined ? {} : { owner: view(state.owner) }),
    ...(state.holders === undefined
      ? {}
      : { holders: state.holders.map((h) => ({ ...h, owner: view(h.owner) })) }),
  };
}

/**
 * An answer with every owner in it (a grant's, a lock's holder, a semaphore's holders, each
 * listed lock's) as `view` shows it; without a view, the answer as it is.
 *
 * @example viewOwners(state, hiddenOwner)
 */
export function viewOwners<R extends LockResponse | ListResult>(
  response: R,
  view: OwnerView | undefined,
): R {
  if (view === undefined) return response;
  if ('locks' in response) {
    return { ...response, locks: response.locks.map((lock) => viewState(lock, view)) };
  }
  if ('held' in response) return viewState(response, view) as R;
  if ('owner' in response) return { ...response, owner: view(response.owner) };
  return response;
}

/**
 * A refusal with the holder it names (a 409's `owner` and message) as `view` shows it; any other
 * error, or any error without a view, as it is. The empty owner of a free lock refused for its
 * waiters stays empty.
 *
 * @example throw viewOwnersIn(err, hiddenOwner);
 */
export function viewOwnersIn(err: unknown, view: OwnerView | undefined): unknown {
  if (view === undefined || !(err instanceof LockHeld) || err.owner === '') return err;
  const { lockId, expiresAt, retryAfterMs, waiting } = err;
  return new LockHeld(
    lockId,
    { owner: view(err.owner), expiresAt, retryAfterMs, waiting },
    { cause: err },
  );
}
