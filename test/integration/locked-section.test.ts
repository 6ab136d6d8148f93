import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { StateMachine } from 'aws-local-stepfunctions';
import { createInvokeHandler } from '../../lambdas/direct/invoke.js';
import { LockManager } from '../../lib/index.js';
import { readConfig } from '../../lambdas/service/config.js';
import { LockUseCase } from '../../lambdas/service/lock-use-case.js';
import { LockService } from '../../lib/cdk/lock-service.js';
import { LockedSection } from '../../lib/cdk/locked-section.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';

type Json = Record<string, unknown>;

/** Synthesizes a stack with a locked section around one work task, and returns its ASL. */
function synthesizeDefinition(): Json {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Locked');
  const service = new LockService(stack, 'Locks');
  const worker = new lambda.Function(stack, 'Worker', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  const section = new LockedSection(stack, 'Exclusive', {
    lockFunction: service.directFunction,
    lockId: sfn.JsonPath.stringAt('$.lockName'),
    lease: Duration.seconds(30),
    maxWait: Duration.seconds(20),
    retryInterval: Duration.seconds(1),
    backoffRate: 1,
    maxRetryDelay: Duration.seconds(1),
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
  const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
  const { DefinitionString } = Object.values(machines)[0].Properties as {
    DefinitionString: { 'Fn::Join': [string, unknown[]] };
  };
  // The function ARNs are CloudFormation references; any ARN will do, since tasks run locally.
  const text = DefinitionString['Fn::Join'][1]
    .map((part) =>
      typeof part === 'string' ? part : 'arn:aws:lambda:us-east-1:123456789012:function:local',
    )
    .join('');
  return JSON.parse(text) as Json;
}

let tableName: string;
let definition: Json;
let direct: ReturnType<typeof createInvokeHandler>;
const events: { execution: string; kind: 'start' | 'end'; at: number; token: number }[] = [];

beforeAll(async () => {
  tableName = await freshLockTable();
  definition = synthesizeDefinition();
  direct = createInvokeHandler(
    new LockUseCase(readConfig({ LOCK_TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint() })),
  );
});

function execute(name: string, input: Json) {
  const lockCall = async (payloadInput: unknown) => {
    const { Payload } = payloadInput as { Payload: unknown };
    return { Payload: await direct(Payload, lambdaContext('lock-direct', 60_000)) } as never;
  };
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: false },
  });
  return machine.run(input as never, {
    context: { Execution: { Id: `arn:aws:states:local:123456789012:execution:Machine:${name}` } },
    overrides: {
      taskResourceLocalHandlers: {
        'Exclusive Acquire': lockCall,
        'Exclusive Release': lockCall,
        'Exclusive ReleaseAfterError': lockCall,
        'Exclusive Renew': lockCall,
        Work: async (taskInput) => {
          const { Payload } = taskInput as { Payload: { token: number; fail: string } };
          events.push({ execution: name, kind: 'start', at: Date.now(), token: Payload.token });
          await new Promise((resolve) => setTimeout(resolve, 700));
          events.push({ execution: name, kind: 'end', at: Date.now(), token: Payload.token });
          if (Payload.fail === 'yes') {
            const error = new Error('the work failed');
            error.name = 'WorkFailed';
            throw error;
          }
          return { Payload: { done: true } } as never;
        },
      },
    },
  }).result;
}

const lockState = async (lockId: string) => {
  const doc = documentClient();
  const state = await new LockManager({ tableName, client: doc }).get(lockId);
  doc.destroy();
  return state;
};

it('runs the sections of two executions on one lock one after the other, tokens increasing', async () => {
  const results = await Promise.all([
    execute('first', { lockName: 'sfn-serial', fail: 'no' }),
    execute('second', { lockName: 'sfn-serial', fail: 'no' }),
  ]);
  for (const result of results) {
    expect(result).toMatchObject({ lockName: 'sfn-serial', work: { done: true } });
  }
  const mine = events.filter((e) => e.execution === 'first' || e.execution === 'second');
  expect(mine.map((e) => e.kind)).toEqual(['start', 'end', 'start', 'end']);
  expect(mine[0].execution).toBe(mine[1].execution);
  expect(mine[2].at).toBeGreaterThanOrEqual(mine[1].at);
  expect(mine[2].token).toBeGreaterThan(mine[0].token);
  expect((await lockState('sfn-serial')).held).toBe(false);
}, 60_000);

it('releases the lock when the section fails, and fails with the section error', async () => {
  const run = execute('failing', { lockName: 'sfn-fail', fail: 'yes' });
  // The execution ends in the section's Fail state, carrying the work's own error and cause.
  await expect(run).rejects.toMatchObject({
    cause: { name: 'WorkFailed', message: expect.stringContaining('the work failed') },
  });
  expect(events.some((e) => e.execution === 'failing' && e.kind === 'end')).toBe(true);
  expect((await lockState('sfn-fail')).held).toBe(false);
}, 30_000);

it('waits for a held lock and then acquires it', async () => {
  const doc = documentClient();
  const holder = await new LockManager({ tableName, client: doc }).acquire('sfn-wait', {
    owner: 'someone-else',
    leaseMs: 2_500,
  });
  doc.destroy();
  const result = await execute('waiter', { lockName: 'sfn-wait', fail: 'no' });
  expect(result).toMatchObject({ work: { done: true } });
  const started = events.find((e) => e.execution === 'waiter' && e.kind === 'start');
  expect(started?.at).toBeGreaterThanOrEqual(holder.expiresAt);
  expect(started?.token).toBeGreaterThan(holder.token);
}, 60_000);
