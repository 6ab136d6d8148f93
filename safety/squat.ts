// The progress check's negative control: a client that takes the lock's waiter slot and keeps
// it looking alive (a fresh heartbeat, the earliest arrival) without ever asking for the lock.
// No honest caller may then take a free lock: the bug the progress invariant exists to catch,
// and the one a waiter that never gives its place back would cause.
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../lib/core/condition-failure.js';
import type { SlotState } from '../lib/core/waiting.js';

/** The first slot's attributes (checked against the core's own list of them). */
const SLOT = {
  '#waiter': 'waiter',
  '#waiterSeen': 'waiterSeen',
  '#waiterSince': 'waiterSince',
} as const satisfies Record<string, keyof SlotState>;

export interface SquatTarget {
  tableName: string;
  lockId: string;
  owner: string;
}

/**
 * One beat of the squatter: the slot is set to `owner`, seen now, waiting since the epoch.
 * False, changing nothing, while the lock's item does not exist (it creates none).
 *
 * @example await squatWaiterSlot(doc, { tableName, lockId, owner: 'squatter' });
 */
export async function squatWaiterSlot(
  client: DynamoDBDocumentClient,
  target: SquatTarget,
): Promise<boolean> {
  try {
    await client.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: { lockId: target.lockId },
        UpdateExpression: 'SET #waiter = :me, #waiterSeen = :now, #waiterSince = :first',
        ConditionExpression: 'attribute_exists(lockId)',
        ExpressionAttributeNames: SLOT,
        // The earliest arrival possible: no honest waiter may take the slot from it.
        ExpressionAttributeValues: { ':me': target.owner, ':now': Date.now(), ':first': 1 },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}
