import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExecutionCleanup } from '../../lib/cdk/execution-cleanup.js';
import { LockService } from '../../lib/cdk/lock-service.js';
import { LockedSection, type LockedSectionProps } from '../../lib/cdk/locked-section.js';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/** A lock service and a state machine (or two) with locked sections, in one stack. */
function stackWithSections(
  props: Partial<LockedSectionProps> = {},
  machines = 1,
): { app: App; stack: Stack; service: LockService } {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Sections');
  const service = new LockService(stack, 'Locks');
  for (let i = 0; i < machines; i++) {
    const section = new LockedSection(stack, `Section${i}`, {
      lockFunction: service.directFunction,
      lockId: `lock-${i}`,
      ...props,
    });
    new sfn.StateMachine(stack, `Machine${i}`, {
      definitionBody: sfn.DefinitionBody.fromChainable(
        section.wrap(new sfn.Pass(stack, `Work${i}`)),
      ),
    });
  }
  // A machine that does not use the lock service is not watched.
  new sfn.StateMachine(stack, 'Unrelated', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Alone')),
  });
  return { app, stack, service };
}

const logicalIdOf = (template: Template, type: string, match: Record<string, unknown>) => {
  const found = Object.keys(template.findResources(type, { Properties: match }));
  expect(found).toHaveLength(1);
  return found[0];
};

describe('execution cleanup of locked sections', () => {
  it('watches failed, timed-out and aborted executions of exactly the machines that use sections', () => {
    const { stack } = stackWithSections({}, 2);
    const template = Template.fromStack(stack);
    const machineIds = ['Machine0', 'Machine1'].map((name) =>
      Object.keys(template.findResources('AWS::StepFunctions::StateMachine')).find((id) =>
        id.startsWith(name),
      ),
    );
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: Match.arrayWith(machineIds.map((id) => ({ Ref: id }))),
        },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } })],
    });
    const [rule] = Object.values(template.findResources('AWS::Events::Rule'));
    const arns = (rule.Properties as { EventPattern: { detail: { stateMachineArn: unknown[] } } })
      .EventPattern.detail.stateMachineArn;
    expect(arns).toHaveLength(2);
  });

  it('tells the cleanup function exactly the state machines its rule watches', () => {
    const { stack } = stackWithSections({}, 2);
    const template = Template.fromStack(stack);
    const machineIds = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))
      .filter((id) => id.startsWith('Machine'))
      .sort();
    const fn = logicalIdOf(template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('releases what ended Step Functions executions hold'),
    });
    const { Properties } = template.findResources('AWS::Lambda::Function')[fn] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const allowed = Properties.Environment.Variables.CLEANUP_STATE_MACHINE_ARNS;
    expect(allowed).toEqual({ 'Fn::Join': [',', machineIds.map((id) => ({ Ref: id }))] });
  });

  it('gives the cleanup function UpdateItem on the lock table and nothing else on data', () => {
    const { stack } = stackWithSections();
    const template = Template.fromStack(stack);
    const fn = logicalIdOf(template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('releases what ended Step Functions executions hold'),
    });
    const { Properties } = template.findResources('AWS::Lambda::Function')[fn] as {
      Properties: { Role: { 'Fn::GetAtt': [string, string] } };
    };
    const roleId = Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify((p.Properties as { Roles: unknown }).Roles).includes(roleId),
    );
    const actions = policies
      .flatMap(
        (p) =>
          (p.Properties as { PolicyDocument: { Statement: { Action: unknown }[] } }).PolicyDocument
            .Statement,
      )
      .flatMap((s) => [s.Action].flat() as string[]);
    expect(actions.sort()).toEqual(
      [
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'dynamodb:UpdateItem',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LocksTable'), 'Arn'] },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
    });
  });

  it('makes acquires register the execution, and passes permits to every lock state', () => {
    const { stack } = stackWithSections({ permits: 4, lease: Duration.minutes(1) });
    const definition = JSON.stringify(
      Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'),
    );
    expect(definition).toContain('\\"trackOwner\\":true');
    // Acquire, Confirm, Release and ReleaseAfterError (this machine has no renew step).
    expect(definition.match(/\\"permits\\":4/g)).toHaveLength(4);
  });

  it('is made once per stack and lock service, and only when asked', () => {
    const { stack, service } = stackWithSections({}, 3);
    expect(ExecutionCleanup.of(stack, service)).toBe(ExecutionCleanup.of(stack, service));
    Template.fromStack(stack).resourceCountIs('AWS::Events::Rule', 1);
    const off = stackWithSections({ cleanup: false });
    const template = Template.fromStack(off.stack);
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(JSON.stringify(template.toJSON())).not.toContain('trackOwner');
  });

  it('stays clean under cdk-nag', () => {
    const { app } = stackWithSections({ permits: 2 });
    const { violations } = new AwsSolutionsChecks().validateScope(app);
    // The test's own state machines (`Machine*`, `Unrelated`) are the user's to configure
    // (logging, tracing, their role's invoke grant); everything of the package must be clean.
    const ours = violations.flatMap((v) =>
      v.violatingResources
        .map((r) => r.constructPath ?? r.resourceLogicalId ?? '')
        .filter((where) => !/\/(Machine\d|Unrelated)\//.test(`${where}/`))
        .map((where) => `${v.ruleName} on ${where}`),
    );
    expect(ours).toEqual([]);
    // The filter hides nothing of ours: the findings it drops are all on the test's machines.
    expect(violations.length).toBeGreaterThan(0);
  });
});
