// The owner registry: which locks and semaphores an owner (a Step Functions execution) may
// hold, so that everything it holds can be released at once when the execution ends without
// running its own release (aborted, timed out, failed outside a Catch). Only acquires that ask
// for it (`trackOwner`) pay its extra write; it lives in the locks table under reserved keys.
// Each kind holds at most LIMITS.trackedLockIdsMax lock ids, so the item stays far below
// DynamoDB's item limit whoever registers under the owner, and ending the owner always works.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { failedItem, isConditionFailure, request } from './condition-failure.js';
import { LockLost, ValidationError } from './errors.js';
import { LIMITS } from './limits.js';
import type { TableContext } from './lock-item.js';
import { RESERVED_LOCK_ID_PREFIX } from './validation.js';

/** The registry item's key for an owner: no lock id can take it (see `parseLockId`). */
const registryKey = (owner: string) => ({ lockId: `${RESERVED_LOCK_ID_PREFIX}owner:${owner}` });

/** What an owner may hold: lock ids by kind, as string sets. */
export interface Holdings {
  locks: string[];
  semaphores: string[];
}

export type HoldingKind = keyof Holdings;

/**
 * Registers and ends owners. An ended owner can register nothing more: an acquire that starts
 * after its cleanup is refused, and one already past its registration holds at most its lease.
 */
export class OwnerRegistry {
  constructor(private readonly table: TableContext) {}

  /**
   * Notes that `owner` may hold `lockId`, before the acquire is sent: so any grant that exists
   * when the owner is ended is found. Registering a lock id again changes nothing.
   * @throws LockLost when the owner has already been ended
   * @throws ValidationError naming `trackOwner` when the owner already has
   * `LIMITS.trackedLockIdsMax` other lock ids of this kind
   */
  async register(owner: string, lockId: string, kind: HoldingKind): Promise<void> {
    try {
      await request(() =>
        this.table.client.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: registryKey(owner),
            UpdateExpression: 'ADD #kind :ids SET #ttl = :ttl',
            // Not ended, and room for one more lock id (or this one is there already).
            ConditionExpression:
              'attribute_not_exists(#ended) AND (attribute_not_exists(#kind) OR ' +
              'size(#kind) < :most OR contains(#kind, :id))',
            ExpressionAttributeNames: { '#kind': kind, '#ttl': 'ttl', '#ended': 'ended' },
            ExpressionAttributeValues: {
              ':ids': new Set([lockId]),
              ':id': lockId,
              ':most': LIMITS.trackedLockIdsMax,
              ':ttl': this.ttl(),
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      if (failedItem<{ ended?: boolean }>(err)?.ended === undefined) {
        throw new ValidationError(
          'trackOwner',
          `owner "${owner}" already tracks ${LIMITS.trackedLockIdsMax} ${kind}, the most one ` +
            'owner may: acquire without trackOwner, or under another owner',
          { cause: err },
        );
      }
      throw new LockLost(lockId, `owner "${owner}" has ended: everything it held was released`, {
        cause: err,
      });
    }
  }

  /**
   * Marks `owner` ended, so it registers nothing more, and returns what it registered.
   * Idempotent: ending it again returns the same holdings.
   */
  async end(owner: string): Promise<Holdings> {
    const { Attributes } = await request(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: registryKey(owner),
          UpdateExpression: 'SET #ended = :true, #ttl = :ttl',
          ExpressionAttributeNames: { '#ended': 'ended', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':true': true, ':ttl': this.ttl() },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    const item = (Attributes ?? {}) as { locks?: Set<string>; semaphores?: Set<string> };
    return { locks: [...(item.locks ?? [])], semaphores: [...(item.semaphores ?? [])] };
  }

  // Kept as long as anything registered could still be held.
  private ttl(): number {
    return this.table.ttlAfter(this.table.clock() + LIMITS.leaseMsMax);
  }
}
