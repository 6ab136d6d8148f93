// How a holder's owner is shown to callers who are not that holder. Where an owner is a bearer
// name (a workers' direct function: its callers carry no identity), showing it would let any
// caller act as the holder, so those callers see only a digest of it.
import { createHash } from 'node:crypto';

/** Marks a shown digest: no owner the service issues begins with it. */
const HIDDEN_PREFIX = 'hidden:';

/**
 * The form in which the workers' direct functions show a holder's owner: a 128-bit digest, the
 * same for the same owner, from which the owner cannot be recovered unless guessed. A caller
 * recognizes its own grant by comparing `state.owner === hiddenOwner(myOwner)`.
 *
 * @example hiddenOwner('lock-client-6f1c...') // 'hidden:Xb3...' (22 characters after the colon)
 */
export const hiddenOwner = (owner: string): string =>
  `${HIDDEN_PREFIX}${createHash('sha256').update(owner, 'utf8').digest('base64url').slice(0, 22)}`;
