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
import { sectionOwner } from '../../lib/contract/execution-events.js';

type Json = Record<string, unknown>;

/** The section's id: its states are named "Exclusive Acquire", "Exclusive Release", ... */
export const SECTION = 'Exclusive';

/**
 * The ASL of a machine whose section (lock id from `$.lockName`) wraps Work then a renew, and
 * the environment of the lock function its lock states invoke (its literal variables: what
 * `readInvokeHandlerOptions` reads), so a test can run the handler as that function would.
 *
 * @param lockFunctionOf the section's `lockFunction` @default the service's `directFunction`
 */
export function synthesizeSection(
  props: Partial<LockedSectionProps> = {},
  lockFunctionOf: (service: LockService) => lambda.IFunction = (s) => s.directFunction,
): {
  definition: Json;
  template: Template;
  lockFunctionEnv: Record<string, string>;
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
    lockFunction: lockFunctionOf(service),
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
  const parts = DefinitionString['Fn::Join'][1];
  const text = parts
    .map((part) =>
      typeof part === 'string' ? part : 'arn:aws:lambda:us-east-1:123456789012:function:local',
    )
    .join('');
  const functions = template.findResources('AWS::Lambda::Function');
  const invoked = new Set(
    parts
      .map((part) => (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0])
      .filter(
        (id): id is string => id !== undefined && id in functions && !id.startsWith('Worker'),
      ),
  );
  if (invoked.size !== 1) throw new Error(`the lock states invoke ${invoked.size} functions`);
  const lockFunctionEnv = functionEnvironment(template, [...invoked][0]);
  return { definition: JSON.parse(text) as Json, template, lockFunctionEnv };
}

/**
 * The literal environment variables of the template's one function whose logical id starts
 * with `logicalIdPrefix` (references such as the table name left out): what
 * `readInvokeHandlerOptions` reads when that function starts.
 */
export function functionEnvironment(
  template: Template,
  logicalIdPrefix: string,
): Record<string, string> {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
    id.startsWith(logicalIdPrefix),
  );
  if (found.length !== 1) throw new Error(`${found.length} functions named ${logicalIdPrefix}*`);
  const { Variables } = (
    found[0][1].Properties as { Environment: { Variables: Record<string, unknown> } }
  ).Environment;
  return Object.fromEntries(
    Object.entries(Variables).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}

/** The execution ARN a local run gets. */
export const executionArn = (name: string) =>
  `arn:aws:states:local:123456789012:execution:Machine:${name}`;

/** The owner a section acquires as in run `redriveCount` of the execution `name`. */
export const runOwner = (name: string, redriveCount = 0) =>
  sectionOwner(executionArn(name), redriveCount);

/**
 * How a run starts: a first run from the top, or (approximating `RedriveExecution`, which keeps
 * the execution's ARN and counts the redrive) a later run restarted at the state `startAt` with
 * the input that state had.
 */
export interface RunStart {
  /** @default 0 (the first run) */
  redriveCount?: number;
  /** A state of the top level. @default the definition's own StartAt */
  startAt?: string;
}

/** The state machine of those executions, as its status change events name it. */
export const STATE_MACHINE_ARN = 'arn:aws:states:local:123456789012:stateMachine:Machine';

export interface RunOptions {
  definition: Json;
  direct: InvokeHandler;
  /** The section's work; its `fail: 'yes'` input makes it throw `WorkFailed`. */
  work: (name: string, token: number) => Promise<void>;
}

/**
 * Starts one local execution; `abort()` stops it as StopExecution would, and `inputOf(state)`
 * gives the input a top-level state was first entered with (what a redrive restarts it with).
 */
export function startSection(
  { definition, direct, work }: RunOptions,
  name: string,
  input: Json,
  { redriveCount = 0, startAt }: RunStart = {},
) {
  const lockCall = async (payloadInput: unknown) => {
    const { Payload } = payloadInput as { Payload: unknown };
    return { Payload: await direct(Payload, lambdaContext('lock-direct', 60_000)) } as never;
  };
  const machine = new StateMachine(
    (startAt === undefined ? definition : { ...definition, StartAt: startAt }) as never,
    { validationOptions: { checkArn: false } },
  );
  const execution = machine.run(input as never, {
    context: { Execution: { Id: executionArn(name), RedriveCount: redriveCount } },
    overrides: {
      taskResourceLocalHandlers: {
        [`${SECTION} Acquire`]: lockCall,
        [`${SECTION} Release`]: lockCall,
        [`${SECTION} ReleaseAfterError`]: lockCall,
        [`${SECTION} Renew`]: lockCall,
        [`${SECTION} Confirm`]: lockCall,
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
  const entered = new Map<string, Json>();
  void (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered' && !entered.has(event.state.name)) {
        entered.set(event.state.name, event.state.input as Json);
      }
    }
  })();
  return {
    ...execution,
    /** The input the top-level state `state` was first entered with, once the run has ended. */
    inputOf: async (state: string): Promise<Json | undefined> => {
      await execution.result.catch(() => undefined);
      return entered.get(state);
    },
  };
}
