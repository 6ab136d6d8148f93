import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

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
