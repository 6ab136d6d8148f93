// A state machine with a LockedSection around one work task, synthesized from the real CDK
// constructs and run by aws-local-stepfunctions, with the lock states calling the real direct
// handler against DynamoDB Local.
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { StateMachine } from 'aws-local-stepfunctions';
import type { InvokeHandler } from '../../lambdas/direct/invoke.js';
import { LockService } from '../../lib/cdk/lock-service.js';
import { LockedSection, type LockedSectionProps } from '../../lib/cdk/locked-section.js';
import { lambdaContext } from '../../local/lambda-context.js';

type Json = Record<string, unknown>;

/** The section's id: its states are named "Exclusive Acquire", "Exclusive Release", ... */
export const SECTION = 'Exclusive';

/** The ASL of a machine whose section (lock id from `$.lockName`) wraps Work then a renew. */
export function synthesizeSection(props: Partial<LockedSectionProps> = {}): {
  definition: Json;
  template: Template;
} {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Locked');
  const service = new LockService(stack, 'Locks');
  const worker = new lambda.Function(stack, 'Worker', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  const section = new LockedSection(stack, SECTION, {
    lockFunction: service.directFunction,
    lockId: sfn.JsonPath.stringAt('$.lockName'),
    lease: Duration.seconds(30),
    maxWait: Duration.seconds(20),
    retryInterval: Duration.seconds(1),
    backoffRate: 1,
    maxRetryDelay: Duration.seconds(1),
    ...props,
  });
  const work = new tasks.LambdaInvoke(stack, 'Work', {
    lambdaFunction: worker,
    payload: sfn.TaskInput.fromObject({
      token: sfn.JsonPath.numberAt('$.lock.token'),
      fail: sfn.JsonPath.stringAt('$.fail'),
    }),
    resultSelector: { 'done.$': '$.Payload.done' },
    resultPath: '$.work',
  });
  const definition = section.wrap(work.next(section.renewStep('Renew')));
  new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
  });
  const template = Template.fromStack(stack);
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const { DefinitionString } = Object.values(machines)[0].Properties as {
    DefinitionString: { 'Fn::Join': [string, unknown[]] };
  };
  // The function ARNs are CloudFormation references; any ARN will do, since tasks run locally.
  const text = DefinitionString['Fn::Join'][1]
    .map((part) =>
      typeof part === 'string' ? part : 'arn:aws:lambda:us-east-1:123456789012:function:local',
    )
    .join('');
  return { definition: JSON.parse(text) as Json, template };
}

/** The execution ARN a local run gets, the owner its section acquires as. */
export const executionArn = (name: string) =>
  `arn:aws:states:local:123456789012:execution:Machine:${name}`;

/** The state machine of those executions, as its status change events name it. */
export const STATE_MACHINE_ARN = 'arn:aws:states:local:123456789012:stateMachine:Machine';

export interface RunOptions {
  definition: Json;
  direct: InvokeHandler;
  /** The section's work; its `fail: 'yes'` input makes it throw `WorkFailed`. */
  work: (name: string, token: number) => Promise<void>;
}

/** Starts one local execution; `abort()` stops it as StopExecution would. */
export function startSection({ definition, direct, work }: RunOptions, name: string, input: Json) {
  const lockCall = async (payloadInput: unknown) => {
    const { Payload } = payloadInput as { Payload: unknown };
    return { Payload: await direct(Payload, lambdaContext('lock-direct', 60_000)) } as never;
  };
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: false },
  });
  return machine.run(input as never, {
    context: { Execution: { Id: executionArn(name) } },
    overrides: {
      taskResourceLocalHandlers: {
        [`${SECTION} Acquire`]: lockCall,
        [`${SECTION} Release`]: lockCall,
        [`${SECTION} ReleaseAfterError`]: lockCall,
        [`${SECTION} Renew`]: lockCall,
        Work: async (taskInput) => {
          const { Payload } = taskInput as { Payload: { token: number; fail: string } };
          await work(name, Payload.token);
          if (Payload.fail === 'yes') {
            const error = new Error('the work failed');
            error.name = 'WorkFailed';
            throw error;
          }
          return { Payload: { done: true } } as never;
        },
      },
    },
  });
}
