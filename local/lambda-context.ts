import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

const unsupported = () => {
  throw new Error('callback-style handlers are not supported outside Lambda');
};

/**
 * A Lambda context for running handler code outside Lambda, with a deadline like the real one.
 *
 * @example
 * await handler(event, lambdaContext('fenced-lock-direct', 30_000));
 */
export function lambdaContext(
  functionName: string,
  timeoutMs = 30_000,
  awsRequestId: string = randomUUID(),
): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${awsRequestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
