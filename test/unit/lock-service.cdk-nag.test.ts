import { jest } from '@jest/globals';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  API_TYPE_CONTEXT,
  createLockServiceApp,
  REMOVAL_POLICY_CONTEXT,
} from '../../bin/lock-service-app.js';
import { ExecutionCleanup } from '../../lib/cdk/execution-cleanup.js';
import { LockedSection } from '../../lib/cdk/locked-section.js';
import { LockService } from '../../lib/cdk/lock-service.js';
import { DIRECT_CALLERS } from '../../lib/contract/execution-events.js';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/** Every acknowledgement in the tree: where, which rule, and why. */
function acknowledgements(app: App): { path: string; id: string; reason: unknown }[] {
  return app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, unknown>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

// The app with each kind of API in front of the handler.
const APP_CONTEXTS = [
  ['REST API', NO_BUNDLING],
  ['HTTP API', { ...NO_BUNDLING, [API_TYPE_CONTEXT]: 'http' }],
] as const;

describe.each(APP_CONTEXTS)('cdk-nag AwsSolutionsChecks, %s', (_kind, context) => {
  it('finds nothing unacknowledged in the app', () => {
    const { app } = createLockServiceApp({ context });
    const { violations } = new AwsSolutionsChecks().validateScope(app);
    expect(violations.map((v) => `${v.ruleName}: ${v.description}`)).toEqual([]);
  });

  it('lets the app synthesize with the checks registered as a validation plugin', () => {
    const { app } = createLockServiceApp({ context });
    expect(() => app.synth()).not.toThrow();
  });

  it('gives every acknowledgement a rule id and a real reason', () => {
    const { app } = createLockServiceApp({ context });
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(typeof ack.reason).toBe('string');
      expect((ack.reason as string).trim().length).toBeGreaterThan(40);
    }
  });

  it('acknowledges only what the design needs (each one is a real finding without it)', () => {
    // Build the same app with acknowledge() recording instead of acknowledging.
    const spy = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => {});
    try {
      const { app } = createLockServiceApp({ context });
      const acked = new Set(spy.mock.calls.flat().map((rule) => rule.id));
      const found = new Set(
        new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName),
      );
      expect(acked.size).toBeGreaterThan(0);
      expect([...acked].sort()).toEqual([...found].sort());
    } finally {
      spy.mockRestore();
    }
  });
});

describe('cdk-nag AwsSolutionsChecks', () => {
  it('fails synth on an unacknowledged finding (the check is live)', () => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'Careless');
    new LockService(stack, 'Locks');
    const role = new iam.Role(stack, 'Wide', { assumedBy: new iam.AccountRootPrincipal() });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::dynamodb:\*\]/);
  });
});

describe('cdk-nag AwsSolutionsChecks with section functions', () => {
  it("finds nothing in the service's constructs or its cleanup with sections of all locks and of scopes", () => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'Sections');
    const locks = new LockService(stack, 'Locks');
    const teamA = { prefixes: ['team-a/'] };
    locks.grantInvokeFunctions(
      new iam.Role(stack, 'TeamA', { assumedBy: new iam.AccountRootPrincipal() }),
      teamA,
    );
    const lockFunctions = [
      locks.directFunction,
      locks.scopedFunction(teamA),
      locks.sectionFunction({ prefixes: ['team-b/'] }),
    ];
    lockFunctions.forEach((lockFunction, i) => {
      const section = new LockedSection(stack, `Section${i}`, { lockFunction, lockId: 'team-a/x' });
      new sfn.StateMachine(stack, `Machine${i}`, {
        definitionBody: sfn.DefinitionBody.fromChainable(
          section.wrap(new sfn.Pass(stack, `Work${i}`)),
        ),
      });
    });
    // The three section functions are there to be checked.
    const sectionFunctions = Template.fromStack(stack).findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { LOCK_CALLERS: DIRECT_CALLERS.sections } } },
    });
    expect(Object.keys(sectionFunctions)).toHaveLength(3);
    // The state machines are the user's to configure (logging, tracing); the package's own
    // constructs must be clean.
    const violations = [locks, ExecutionCleanup.of(stack, locks)].flatMap(
      (scope) => new AwsSolutionsChecks().validateScope(scope).violations,
    );
    expect(violations.map((v) => `${v.ruleName}: ${v.description}`)).toEqual([]);
    // The checks ran on this tree: the machines, outside those scopes, have findings.
    expect(new AwsSolutionsChecks().validateScope(stack).violations.length).toBeGreaterThan(0);
  });
});

describe('the app', () => {
  it('retains the table by default and destroys it when the context says so', () => {
    const tableOf = (context: Record<string, unknown>) => {
      const { stack } = createLockServiceApp({ context: { ...NO_BUNDLING, ...context } });
      const tables = Template.fromStack(stack).findResources('AWS::DynamoDB::Table');
      return Object.values(tables)[0]!;
    };
    expect(tableOf({}).DeletionPolicy).toBe('Retain');
    expect(tableOf({ [REMOVAL_POLICY_CONTEXT]: 'destroy' }).DeletionPolicy).toBe('Delete');
    expect(() => tableOf({ [REMOVAL_POLICY_CONTEXT]: 'keep' })).toThrow(
      'lockService:removalPolicy',
    );
  });

  it('fronts the handler with the API the context names, refusing unknown kinds', () => {
    const resources = (context: Record<string, unknown>) => {
      const { stack } = createLockServiceApp({ context: { ...NO_BUNDLING, ...context } });
      const template = Template.fromStack(stack);
      return {
        rest: Object.keys(template.findResources('AWS::ApiGateway::RestApi')).length,
        http: Object.keys(template.findResources('AWS::ApiGatewayV2::Api')).length,
      };
    };
    expect(resources({})).toEqual({ rest: 1, http: 0 });
    expect(resources({ [API_TYPE_CONTEXT]: 'http' })).toEqual({ rest: 0, http: 1 });
    expect(() => resources({ [API_TYPE_CONTEXT]: 'websocket' })).toThrow(API_TYPE_CONTEXT);
  });

  it('names no account or region, so it synthesizes offline', () => {
    const { stack } = createLockServiceApp({ context: NO_BUNDLING });
    expect(Stack.of(stack).environment).toBe('aws://unknown-account/unknown-region');
  });
});
