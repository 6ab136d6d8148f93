// The item-deletion fault: the lock's item deleted while callers wait, as DynamoDB's TTL or an
// operator's clean-up would. Only an item whose lock is free is deleted (TTL only deletes
// items whose last lease ended long ago): what is tested is that waiting callers, and whatever
// waiting state the item carried, survive the item going away; a held lock deleted under its
// holder would be a forced release, which no lock promises to survive.
import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../lib/core/condition-failure.js';
import { namesOf } from '../lib/core/lock-item.js';

/**
 * Deletes the lock's item if it exists and its lock is free by `now` (no owner, or its lease
 * ended). True when it was deleted.
 *
 * @example if (await deleteFreeLockItem(doc, 'locks', 'orders/42', Date.now())) faults.push(...);
 */
export async function deleteFreeLockItem(
  client: DynamoDBDocumentClient,
  tableName: string,
  lockId: string,
  now: number,
): Promise<boolean> {
  try {
    await client.send(
      new DeleteCommand({
        TableName: tableName,
        Key: { lockId },
        ConditionExpression:
          'attribute_exists(lockId) AND (attribute_not_exists(#owner) OR #expiresAt <= :now)',
        ExpressionAttributeNames: namesOf('owner', 'expiresAt'),
        ExpressionAttributeValues: { ':now': now },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}
