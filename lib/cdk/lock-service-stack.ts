import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { LockService, type LockServiceProps } from './lock-service.js';

/**
 * Properties of a {@link LockServiceStack}.
 *
 * @example
 * const props: LockServiceStackProps = { lockService: { throttlingRateLimit: 50 } };
 */
export interface LockServiceStackProps extends StackProps {
  /**
   * Properties of the lock service in the stack.
   *
   * @default - the {@link LockService} defaults (table retained, 100 requests/s, ...)
   */
  readonly lockService?: LockServiceProps;
}

/**
 * A stack holding one {@link LockService}, with outputs for the API URL, the table name and
 * the function names. It names no account or region, so it synthesizes offline.
 *
 * @example
 * const app = new App();
 * new LockServiceStack(app, 'LockService');
 */
export class LockServiceStack extends Stack {
  /** The lock service of this stack. */
  public readonly lockService: LockService;

  constructor(scope: Construct, id: string, props: LockServiceStackProps = {}) {
    super(scope, id, {
      description: 'Fenced lock service: DynamoDB lock table, Lambda handlers, IAM-authorized API',
      ...props,
    });
    this.lockService = new LockService(this, 'LockService', props.lockService);

    new CfnOutput(this, 'ApiUrl', {
      value: this.lockService.url,
      description: 'Base URL of the lock API (SigV4-signed requests, service execute-api)',
    });
    new CfnOutput(this, 'TableName', {
      value: this.lockService.table.tableName,
      description: 'The lock table (lockctl --table, the DynamoDB transport)',
    });
    new CfnOutput(this, 'ApiFunctionName', {
      value: this.lockService.apiFunction.functionName,
      description: 'The function behind the HTTP API',
    });
    new CfnOutput(this, 'DirectFunctionName', {
      value: this.lockService.directFunction.functionName,
      description: 'The function to invoke directly with { action, lockId, ... }',
    });
    new CfnOutput(this, 'DirectFunctionArn', {
      value: this.lockService.directFunction.functionArn,
      description: 'ARN of the direct-invocation function (Step Functions, Lambda.invoke)',
    });
    new CfnOutput(this, 'OperatorFunctionName', {
      value: this.lockService.operatorFunction.functionName,
      description: "The operators' direct function (every action, forceRelease included)",
    });
  }
}
