import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { LockServiceUnavailable } from './errors.js';

/**
 * True when DynamoDB refused a write because its condition did not hold. Checks the name too,
 * so the answer is right even if a second copy of the SDK built the error.
 *
 * @example
 * catch (err) { if (!isConditionFailure(err)) throw err; }
 */
export const isConditionFailure = (err: unknown): err is ConditionalCheckFailedException =>
  err instanceof ConditionalCheckFailedException ||
  (err instanceof Error && err.name === 'ConditionalCheckFailedException');

/**
 * The item a refused write found (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), as plain
 * values: the DocumentClient does not unmarshall it.
 *
 * @example const holder = failedItem<LockItem>(err)?.owner;
 */
export const failedItem = <T>(err: ConditionalCheckFailedException): T | undefined =>
  err.Item ? (unmarshall(err.Item) as T) : undefined;

/**
 * Runs one DynamoDB request; anything but a refused condition (which the caller maps to a lock
 * outcome) becomes a {@link LockServiceUnavailable}, the fault every transport raises.
 *
 * @example const { Item } = await request(() => client.send(new GetCommand(input)));
 */
export async function request<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (isConditionFailure(err) || err instanceof LockServiceUnavailable) throw err;
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new LockServiceUnavailable(`DynamoDB request failed (${reason})`, { cause: err });
  }
}
