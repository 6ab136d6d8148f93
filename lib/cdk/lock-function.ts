import { type Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ASSET_HANDLER, type HandlerAssetName, handlerAssetPath } from './handler-assets.js';

/** How one of the package's Lambda functions is set up. */
export interface LockFunctionOptions {
  /** Which prebuilt handler bundle it runs. */
  asset: HandlerAssetName;
  description: string;
  timeout: Duration;
  environment: Record<string, string>;
  runtime: lambda.Runtime;
  memorySize: number;
  logRetention: logs.RetentionDays;
  removalPolicy: RemovalPolicy;
}

/**
 * One of the package's Lambda functions: a prebuilt handler asset (no bundling at synth), arm64,
 * X-Ray tracing, a log group of its own, and a role that may write only to that log group; the
 * caller grants what the handler needs on top. The cdk-nag findings that come with this setup
 * are acknowledged here, with their reasons.
 *
 * @example
 * const fn = createLockFunction(this, 'DirectFunction', { asset: 'direct', ... });
 */
export function createLockFunction(
  scope: Construct,
  id: string,
  options: LockFunctionOptions,
): lambda.Function {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: options.logRetention,
    removalPolicy: options.removalPolicy,
  });
  // An explicit role instead of AWSLambdaBasicExecutionRole: it may write to its own log group
  // only. X-Ray's statement comes from `tracing`.
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `${options.description}: execution role`,
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
  const fn = new lambda.Function(scope, id, {
    code: lambda.Code.fromAsset(handlerAssetPath(options.asset)),
    handler: ASSET_HANDLER,
    runtime: options.runtime,
    architecture: lambda.Architecture.ARM_64,
    memorySize: options.memorySize,
    timeout: options.timeout,
    description: options.description,
    role,
    logGroup,
    tracing: lambda.Tracing.ACTIVE,
    environment: {
      // The bundle is minified: stack traces are only readable through its source map.
      NODE_OPTIONS: '--enable-source-maps',
      ...options.environment,
    },
  });
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray tracing (Tracing.ACTIVE) needs xray:PutTraceSegments and ' +
      'xray:PutTelemetryRecords, which support no resource-level permissions; the ' +
      'statement holds only those two actions.',
  });
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'The runtime is pinned on purpose (default Node.js 22, matching the bundle target ' +
      'node22 the handlers are tested for) rather than following whichever runtime the ' +
      'installed aws-cdk-lib lists as newest; choose another with the `runtime` prop.',
  });
  return fn;
}
