// Owners bound to the API caller's IAM identity. An owner is the name under which a grant is
// renewed, released, or given back to a retried acquire; the service shows it to other callers
// (a 409 names the holder, `get` and the listing show it). If any caller could send any owner,
// a caller with only the workers' grant could act as another's holder: take its grant back with
// its token, release it or stretch its lease. So every owner an IAM-authorized caller sends is
// stored qualified by that caller's identity (`aws:123456789012:role/team-a#worker-1`), and
// shown back to that caller as it sent it: another principal naming the same owner names a
// different one. A caller without an identity (the local server, which has no IAM) is not bound.
import { utf8Length } from '../../lib/core/validation.js';
import { AccessDenied, LIMITS, ValidationError } from '../../lib/core/index.js';
import { isExecutionOwner } from '../../lib/contract/execution-events.js';
import type { LockRequest } from '../../lib/contract/operations.js';
import type { OwnerView } from '../service/owner-views.js';
import { isPrincipalKey, principalKey } from './caller-scopes.js';

/**
 * Ends the identity part of a bound owner. IAM names never contain it, so one principal's
 * qualifier is never a prefix of another's owners.
 */
const QUALIFIER_END = '#';

/**
 * What an API caller's owners are qualified with, or undefined for a caller without an IAM
 * identity: its principal (a role's session counts as the role) and `#`.
 *
 * @example ownerQualifier('arn:aws:sts::1:assumed-role/team-a/i-0abc') // 'aws:1:role/team-a#'
 */
export function ownerQualifier(callerArn: string | undefined): string | undefined {
  return callerArn === undefined ? undefined : `${principalKey(callerArn)}${QUALIFIER_END}`;
}

/**
 * Whether `owner` has the form of an owner bound to an API caller (a principal key, or another
 * ARN, then `#`): the workers' direct functions refuse such owners, so a caller without an
 * identity cannot act for an API caller's grant by sending its qualified owner.
 *
 * @example isBoundOwner('aws:1:role/team-a#worker-1') === true
 */
export function isBoundOwner(owner: string): boolean {
  const end = owner.indexOf(QUALIFIER_END);
  if (end < 0) return false;
  const principal = owner.slice(0, end);
  return isPrincipalKey(principal) || (principal.startsWith('arn:') && !isExecutionOwner(owner));
}

/**
 * The request with its owner qualified by the caller's identity. `trackOwner` registers the
 * owner for the execution cleanup, which ends Step Functions executions (`LockedSection` on the
 * direct function): an API caller is an IAM principal, never that execution, so it is refused.
 *
 * @throws AccessDenied for `trackOwner` from a caller with an identity
 * @throws ValidationError naming `owner` when the qualified owner is over the owner limit
 */
export function bindOwner(request: LockRequest, qualifier: string | undefined): LockRequest {
  if (qualifier === undefined || !('owner' in request.options)) return request;
  if (request.action === 'acquire' && request.options.trackOwner === true) {
    throw new AccessDenied(
      'trackOwner is for Step Functions sections (LockedSection, through the direct function): ' +
        'an API caller cannot register owners for the execution cleanup',
    );
  }
  const owner = `${qualifier}${request.options.owner}`;
  if (utf8Length(owner) > LIMITS.ownerMaxBytes) {
    const qualifierBytes = utf8Length(qualifier);
    throw new ValidationError(
      'owner',
      `owner must be at most ${LIMITS.ownerMaxBytes - qualifierBytes} bytes for this caller: the ` +
        `service qualifies an API caller's owners with its IAM identity, ${qualifierBytes} bytes ` +
        `of the ${LIMITS.ownerMaxBytes} an owner may take`,
    );
  }
  return { ...request, options: { ...request.options, owner } } as LockRequest;
}

/**
 * How this caller sees owners: its own as it sent them, others' with their principal.
 *
 * @example ownerView('aws:1:role/team-a#')?.('aws:1:role/team-a#worker-1') // 'worker-1'
 */
export function ownerView(qualifier: string | undefined): OwnerView | undefined {
  if (qualifier === undefined) return undefined;
  return (owner) => (owner.startsWith(qualifier) ? owner.slice(qualifier.length) : owner);
}
