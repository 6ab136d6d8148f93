import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { LockServiceUnavailable, ValidationError } from './errors.js';

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

// DynamoDB refused the request as invalid (`ValidationException`): for this service, an item
// that would grow past 400 KB. The request changed nothing.
const isRequestInvalid = (err: unknown): err is Error =>
  err instanceof Error && err.name === 'ValidationException';

/**
 * Runs one DynamoDB request; a refused condition is rethrown as is (the caller maps it to a
 * lock outcome), a request DynamoDB refused as invalid becomes a {@link ValidationError} naming
 * `invalidField` (it changed nothing, and retrying it cannot help), and anything else a
 * {@link LockServiceUnavailable}, the fault every transport raises.
 *
 * @example const { Item } = await request(() => client.send(new GetCommand(input)));
 */
export async function request<T>(send: () => Promise<T>, invalidField = 'lockId'): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (isConditionFailure(err) || err instanceof LockServiceUnavailable) throw err;
    if (isRequestInvalid(err)) {
      throw new ValidationError(invalidField, `DynamoDB refused the request: ${err.message}`, {
        cause: err,
      });
    }
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new LockServiceUnavailable(`DynamoDB request failed (${reason})`, { cause: err });
  }
}
