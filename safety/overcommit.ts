// The semaphore's negative control: a broken acquire that writes its permit into the item
// without the limit's condition. The item then really holds more than N unexpired permits (the
// service's own `get` lists them, and they have real tokens from the same counter), which is
// the bug the checker's at-most-n-permits invariant exists to catch.
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../lib/core/condition-failure.js';
import { permitKey } from '../lib/core/semaphore-item.js';
import type { SafetyGrant } from './lock-transports.js';

export interface OvercommitTarget {
  tableName: string;
  lockId: string;
  owner: string;
  leaseMs: number;
}

/**
 * Adds a permit for `owner` whatever the number of permits already held, with the next token
 * of the semaphore's counter. Undefined, changing nothing, when there is no semaphore yet or
 * `owner` already has an entry.
 *
 * @example
 * const grant = await overcommitPermit(doc, { tableName, lockId, owner, leaseMs: 1_000 });
 */
export async function overcommitPermit(
  client: DynamoDBDocumentClient,
  target: OvercommitTarget,
): Promise<SafetyGrant | undefined> {
  const expiresAt = Date.now() + target.leaseMs;
  try {
    const { Attributes } = await client.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: { lockId: target.lockId },
        UpdateExpression:
          'SET #holders.#me = :entry, #permitTokens.#me = #token + :one, #token = #token + :one',
        // The honest write also requires size(#holders) < :permits; this one does not.
        ConditionExpression: 'attribute_exists(#holders) AND attribute_not_exists(#holders.#me)',
        ExpressionAttributeNames: {
          '#holders': 'holders',
          '#permitTokens': 'permitTokens',
          '#token': 'token',
          '#me': permitKey(target.owner),
        },
        ExpressionAttributeValues: {
          ':entry': { owner: target.owner, expiresAt, leaseMs: target.leaseMs },
          ':one': 1,
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return { token: (Attributes as { token: number }).token, expiresAt };
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw err;
  }
}
