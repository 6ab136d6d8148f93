import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LockedSection } from '../../lib/cdk/locked-section.js';
import { LockService } from '../../lib/cdk/lock-service.js';
import type { LockScope } from '../../lib/cdk/lock-scope.js';
import { ValidationError } from '../../lib/core/errors.js';

// Template assertions need no bundle: skip esbuild here.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

function consumer(encryptionKey = false) {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Consumer');
  const key = encryptionKey ? new kms.Key(stack, 'Key') : undefined;
  const locks = new LockService(stack, 'Locks', { encryptionKey: key });
  const role = new iam.Role(stack, 'TeamA', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  return { stack, locks, role };
}

/** The statements of the policies attached to `role` (found by its Ref, never a spelled logical id). */
function statementsOf(stack: Stack, role: iam.Role): Record<string, unknown>[] {
  const roleRef = { Ref: stack.getLogicalId(role.node.defaultChild as iam.CfnRole) };
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([roleRef]) },
  });
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: [] } } }).Properties.PolicyDocument
        .Statement,
  );
}

describe('grantTableAccess with a scope', () => {
  it('conditions UpdateItem and GetItem on dynamodb:LeadingKeys, ForAllValues:StringLike prefix*', () => {
    const { stack, locks, role } = consumer();
    locks.grantTableAccess(role, { prefixes: ['team-a/', 'shared/team-a-'] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: Match.arrayWith([{ Ref: stack.getLogicalId(role.node.defaultChild as iam.CfnRole) }]),
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
            Resource: Match.anyValue(),
            Condition: {
              'ForAllValues:StringLike': {
                'dynamodb:LeadingKeys': ['team-a/*', 'shared/team-a-*'],
              },
            },
          },
        ],
      },
    });
  });

  it('leaves no table statement without the condition', () => {
    const { stack, locks, role } = consumer();
    locks.grantTableAccess(role, { prefixes: ['team-a/'] });
    const tableStatements = statementsOf(stack, role).filter((s) =>
      JSON.stringify(s.Action).includes('dynamodb:'),
    );
    expect(tableStatements).toHaveLength(1);
    expect(tableStatements[0]!.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['team-a/*'] },
    });
  });

  it('still grants the key actions on a customer managed key (KMS has no lock id to scope by)', () => {
    const { stack, locks, role } = consumer(true);
    locks.grantTableAccess(role, { prefixes: ['team-a/'] });
    const actions = statementsOf(stack, role).flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining([
        'kms:Decrypt',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'kms:DescribeKey',
      ]),
    );
  });

  it('without a scope grants all locks, with no condition (single-team default)', () => {
    const { stack, locks, role } = consumer();
    locks.grantTableAccess(role);
    const [statement, ...rest] = statementsOf(stack, role);
    expect(rest).toHaveLength(0);
    expect(statement!.Condition).toBeUndefined();
  });

  it.each<[string, LockScope]>([
    ['no prefixes', { prefixes: [] }],
    ['an empty prefix (every id)', { prefixes: [''] }],
    ['a * wildcard', { prefixes: ['team-*'] }],
    ['a ? wildcard', { prefixes: ['team-?/'] }],
    ['the reserved U+0000', { prefixes: ['\u0000owner:'] }],
    ['a non-string', { prefixes: [42 as unknown as string] }],
  ])('refuses %s at synth with a ValidationError naming prefixes', (_, scope) => {
    const { locks, role } = consumer();
    let caught: unknown;
    try {
      locks.grantTableAccess(role, scope);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe('prefixes');
  });
});

describe('grantInvokeApiScoped', () => {
  it("grants the workers' routes and passes the role ARN and prefixes to the API function", () => {
    const { stack, locks, role } = consumer();
    locks.grantInvokeApiScoped(role, { prefixes: ['team-a/'] });
    const template = Template.fromStack(stack);
    const roleId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('HTTP API handler'),
      Environment: {
        Variables: Match.objectLike({
          LOCK_API_SCOPES: {
            'Fn::Join': [
              '',
              Match.arrayWith([
                { 'Fn::GetAtt': [roleId, 'Arn'] },
                '","prefixes":["team-a/"],"operations":["acquire","renew","release","get"]}]',
              ]),
            ],
          },
        }),
      },
    });
    const invoke = statementsOf(stack, role).filter((s) => s.Action === 'execute-api:Invoke');
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0]!.Resource)).not.toContain('DELETE');
  });

  it('names the operators (a role or user given grantOperator) to the API function', () => {
    const { stack, locks, role } = consumer();
    locks.grantInvokeApiScoped(role, { prefixes: ['team-a/'] });
    locks.grantOperator(role);
    const roleId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('HTTP API handler'),
      Environment: {
        Variables: Match.objectLike({
          LOCK_API_OPERATORS: {
            'Fn::Join': ['', ['["', { 'Fn::GetAtt': [roleId, 'Arn'] }, '"]']],
          },
        }),
      },
    });
  });

  it('leaves the API function without LOCK_API_SCOPES when no grant is scoped', () => {
    const { stack, locks, role } = consumer();
    locks.grantInvokeApi(role);
    const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    expect(JSON.stringify(fns)).not.toContain('LOCK_API_SCOPES');
  });

  it('refuses a grantee that is not a role or user, naming grantee', () => {
    const { locks } = consumer();
    expect(() =>
      locks.grantInvokeApiScoped(new iam.ServicePrincipal('states.amazonaws.com'), {
        prefixes: ['a/'],
      }),
    ).toThrow(expect.objectContaining({ field: 'grantee' }) as Error);
  });
});

describe('scopedFunction and grantInvokeFunctions with a scope', () => {
  it("is the workers' direct function serving only the scope's prefixes, one per scope", () => {
    const { stack, locks, role } = consumer();
    const fn = locks.scopedFunction({ prefixes: ['team-a:'] });
    expect(locks.scopedFunction({ prefixes: ['team-a:'] })).toBe(fn);
    locks.grantInvokeFunctions(role, { prefixes: ['team-a:'] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 4);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('scoped to team-a:'),
      Environment: {
        Variables: Match.objectLike({
          LOCK_ACTIONS: 'acquire,renew,release,get',
          LOCK_PREFIXES: '["team-a:"]',
        }),
      },
    });
    const fnId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    expect(statementsOf(stack, role)).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [fnId, 'Arn'] },
      },
    ]);
  });

  it("watches a state machine whose LockedSection uses a scope's function for the cleanup", () => {
    const { stack, locks } = consumer();
    const section = new LockedSection(stack, 'Section', {
      lockFunction: locks.scopedFunction({ prefixes: ['team-a:'] }),
      lockId: 'team-a:nightly',
    });
    const machine = new sfn.StateMachine(stack, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(section.wrap(new sfn.Pass(stack, 'Work'))),
    });
    const template = Template.fromStack(stack);
    const machineId = stack.getLogicalId(machine.node.defaultChild as sfn.CfnStateMachine);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({ stateMachineArn: [{ Ref: machineId }] }),
      }),
    });
  });
});

describe('cdk-nag with the scoped and operator grants', () => {
  // The service's own constructs only: a grantee's policy is its owner's to review (the route
  // ARNs' `*` lock id segment is an IAM5 finding there, as it was before scopes).
  it("finds nothing unacknowledged in the service's constructs, the scope's function included", () => {
    const { stack, locks, role } = consumer();
    locks.grantTableAccess(role, { prefixes: ['team-a:'] });
    locks.grantInvokeApiScoped(role, { prefixes: ['team-a:'] });
    locks.grantInvokeFunctions(role, { prefixes: ['team-a:'] });
    locks.grantOperator(
      new iam.Role(stack, 'OnCall', { assumedBy: new iam.AccountRootPrincipal() }),
    );
    const { violations } = new AwsSolutionsChecks().validateScope(locks);
    expect(violations.map((v) => `${v.ruleName}: ${v.description}`)).toEqual([]);
  });
});

describe("scopes' and sections' functions", () => {
  const logicalIds = (order: LockScope[]) => {
    const { stack, locks } = consumer();
    for (const scope of order) {
      locks.scopedFunction(scope);
      locks.sectionFunction(scope);
    }
    locks.sectionFunction();
    return Object.keys(Template.fromStack(stack).findResources('AWS::Lambda::Function')).sort();
  };

  it('keep their logical ids whatever order the scopes are made in (no replacement on deploy)', () => {
    const a = { prefixes: ['team-a:'] };
    const b = { prefixes: ['team-b:', 'shared:'] };
    const ids = logicalIds([a, b]);
    // API, workers, operators; two scopes; three sections (two scopes and all locks)
    expect(ids).toHaveLength(3 + 2 + 3);
    expect(logicalIds([b, a])).toEqual(ids);
    // the same prefixes in another order are the same scope
    expect(logicalIds([{ prefixes: ['shared:', 'team-b:'] }, a])).toEqual(ids);
  });
});
