// The ASL a LockedSection synthesizes: what its lock states retry, the owner they send, and the
// way back to the acquire for a redriven run; and which of the service's functions it invokes.
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { LockedSection } from '../../lib/cdk/locked-section.js';
import { LockService } from '../../lib/cdk/lock-service.js';
import { DIRECT_CALLERS } from '../../lib/contract/execution-events.js';
import { WORKER_OPERATIONS } from '../../lib/contract/operations.js';
import { synthesizeSection, SECTION } from '../support/local-section.js';

type State = Record<string, unknown> & {
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Parameters?: { Payload?: Record<string, unknown> };
  Branches?: { StartAt: string; States: Record<string, State> }[];
};

/** Every state of the definition, those inside Parallel branches included, by name. */
function statesOf(definition: { States: Record<string, State> }): Record<string, State> {
  const all: Record<string, State> = {};
  const visit = (states: Record<string, State>) => {
    for (const [name, state] of Object.entries(states)) {
      all[name] = state;
      for (const branch of state.Branches ?? []) visit(branch.States);
    }
  };
  visit(definition.States);
  return all;
}

const LOCK_STATES = ['Acquire', 'Confirm', 'Renew', 'Release', 'ReleaseAfterError'];

/** AWS's recommended set for a Lambda task, and the lock function's own fault. */
const TRANSIENT = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'InternalError',
];

describe.each([[{}], [{ permits: 3 }]])('a LockedSection with %p', (props) => {
  const states = statesOf(synthesizeSection(props).definition as { States: Record<string, State> });

  it.each(LOCK_STATES)('retries every transient Lambda error in %s', (name) => {
    const retries = states[`${SECTION} ${name}`].Retry ?? [];
    const transient = retries.filter((r) => r.ErrorEquals.includes('Lambda.ServiceException'));
    expect(transient).toHaveLength(1);
    expect([...transient[0].ErrorEquals].sort()).toEqual([...TRANSIENT].sort());
  });

  it.each(LOCK_STATES)('sends the run of the execution as the owner in %s', (name) => {
    expect(states[`${SECTION} ${name}`].Parameters?.Payload?.['owner.$']).toBe(
      "States.Format('{}#run-{}', $$.Execution.Id, $$.Execution.RedriveCount)",
    );
  });

  it('confirms the grant first inside the section, and goes back to the acquire if it is not current', () => {
    const section = states[`${SECTION} Section`];
    expect(section.Branches?.[0].StartAt).toBe(`${SECTION} Confirm`);
    expect(states[`${SECTION} Confirm`].Catch).toEqual([
      expect.objectContaining({ ErrorEquals: ['LockLost'], Next: `${SECTION} GrantNotCurrent` }),
    ]);
    expect(states[`${SECTION} GrantNotCurrent`]).toMatchObject({
      Type: 'Fail',
      Error: 'LockedSection.GrantNotCurrent',
    });
    // Checked before the catch-all that releases and fails.
    expect(section.Catch?.map((c) => [c.ErrorEquals, c.Next])).toEqual([
      [['LockedSection.GrantNotCurrent'], `${SECTION} Acquire`],
      [['States.ALL'], `${SECTION} ReleaseAfterError`],
    ]);
  });
});

describe('the function a LockedSection invokes', () => {
  const TEAM_A = { prefixes: ['team-a/'] };

  /** A service and one state machine per given `lockFunction`, each with a LockedSection. */
  function machinesOn(...lockFunctionsOf: ((locks: LockService) => lambda.IFunction)[]) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Sections');
    const locks = new LockService(stack, 'Locks');
    const machines = lockFunctionsOf.map((lockFunctionOf, i) => {
      const section = new LockedSection(stack, `Section${i}`, {
        lockFunction: lockFunctionOf(locks),
        lockId: 'team-a/nightly',
      });
      return new sfn.StateMachine(stack, `Machine${i}`, {
        definitionBody: sfn.DefinitionBody.fromChainable(
          section.wrap(new sfn.Pass(stack, `Work${i}`)),
        ),
      });
    });
    const template = Template.fromStack(stack).toJSON() as Cfn;
    const idOf = (construct: Construct) =>
      stack.getLogicalId(construct.node.defaultChild as CfnElement);
    return { locks, machines, template, idOf };
  }

  type Cfn = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

  /** The logical ids of the resources a template value refers to (`Ref`, `Fn::GetAtt`). */
  const referenced = (value: unknown): string[] => {
    if (Array.isArray(value)) return value.flatMap(referenced);
    if (typeof value !== 'object' || value === null) return [];
    const { Ref: ref, 'Fn::GetAtt': getAtt } = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown };
    if (typeof ref === 'string') return ref.startsWith('AWS::') ? [] : [ref];
    if (Array.isArray(getAtt)) return [String(getAtt[0])];
    return Object.values(value).flatMap(referenced);
  };
  const functionsIn = (template: Cfn, value: unknown) =>
    [...new Set(referenced(value))].filter(
      (id) => template.Resources[id]?.Type === 'AWS::Lambda::Function',
    );
  /** The functions a machine's definition names. */
  const namedBy = (template: Cfn, machineId: string) =>
    functionsIn(template, template.Resources[machineId]!.Properties.DefinitionString);
  /** The functions the machine's role may invoke (any statement with an invoke action). */
  const invokableBy = (template: Cfn, machineId: string) => {
    const [roleId] = referenced(template.Resources[machineId]!.Properties.RoleArn);
    const statements = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) => referenced(r.Properties.Roles).includes(roleId!))
      .flatMap(
        (r) => (r.Properties.PolicyDocument as { Statement: { Action: unknown }[] }).Statement,
      )
      .filter((s) =>
        [s.Action].flat().some((a) => /^(lambda:(InvokeFunction|\*)|\*)$/.test(String(a))),
      );
    return functionsIn(template, statements);
  };
  const envOf = (template: Cfn, functionId: string) =>
    (
      template.Resources[functionId]!.Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;

  it('on directFunction invokes the section function of all locks (callers: sections, no prefixes)', () => {
    const { locks, machines, template, idOf } = machinesOn((l) => l.directFunction);
    const sectionId = idOf(locks.sectionFunction());
    expect(namedBy(template, idOf(machines[0]!))).toEqual([sectionId]);
    expect(invokableBy(template, idOf(machines[0]!))).toEqual([sectionId]);
    const env = envOf(template, sectionId);
    expect(env.LOCK_CALLERS).toBe(DIRECT_CALLERS.sections);
    expect(env.LOCK_ACTIONS).toBe(WORKER_OPERATIONS.join(','));
    expect(env).not.toHaveProperty('LOCK_PREFIXES');
  });

  it("on scopedFunction(scope) invokes a section function serving that scope's prefixes only", () => {
    const { locks, machines, template, idOf } = machinesOn((l) => l.scopedFunction(TEAM_A));
    const sectionId = idOf(locks.sectionFunction(TEAM_A));
    expect(sectionId).not.toBe(idOf(locks.scopedFunction(TEAM_A)));
    expect(namedBy(template, idOf(machines[0]!))).toEqual([sectionId]);
    expect(invokableBy(template, idOf(machines[0]!))).toEqual([sectionId]);
    expect(envOf(template, sectionId)).toMatchObject({
      LOCK_CALLERS: DIRECT_CALLERS.sections,
      LOCK_ACTIONS: WORKER_OPERATIONS.join(','),
      LOCK_PREFIXES: '["team-a/"]',
    });
  });

  it.each([
    ['sectionFunction()', (l: LockService) => l.sectionFunction()],
    ['sectionFunction(team-a/)', (l: LockService) => l.sectionFunction(TEAM_A)],
  ])('given %s itself, invokes it', (_, lockFunctionOf) => {
    const { locks, machines, template, idOf } = machinesOn(lockFunctionOf);
    const sectionId = idOf(lockFunctionOf(locks));
    expect(namedBy(template, idOf(machines[0]!))).toEqual([sectionId]);
    expect(invokableBy(template, idOf(machines[0]!))).toEqual([sectionId]);
  });

  it('gives the same scope the same section function: one made per scope', () => {
    const { locks, machines, template, idOf } = machinesOn(
      (l) => l.scopedFunction(TEAM_A),
      (l) => l.scopedFunction({ prefixes: ['team-a/'] }),
      (l) => l.sectionFunction({ prefixes: ['team-a/'] }),
      (l) => l.directFunction,
      (l) => l.sectionFunction(),
    );
    expect(locks.sectionFunction({ prefixes: ['b/', 'a/'] })).toBe(
      locks.sectionFunction({ prefixes: ['a/', 'b/'] }),
    );
    const scopedId = idOf(locks.sectionFunction(TEAM_A));
    const allId = idOf(locks.sectionFunction());
    expect(machines.map((m) => namedBy(template, idOf(m)))).toEqual([
      [scopedId],
      [scopedId],
      [scopedId],
      [allId],
      [allId],
    ]);
    const sectionFunctions = Object.entries(template.Resources).filter(
      ([id, r]) =>
        r.Type === 'AWS::Lambda::Function' &&
        envOf(template, id).LOCK_CALLERS === DIRECT_CALLERS.sections,
    );
    expect(sectionFunctions.map(([id]) => id).sort()).toEqual([scopedId, allId].sort());
    // The cleanup watches machines invoking any of the service's functions, these included.
    expect(locks.lockFunctions()).toEqual(
      expect.arrayContaining([locks.sectionFunction(), locks.sectionFunction(TEAM_A)]),
    );
  });

  it("keeps the workers' functions for workers, and out of the sections' roles", () => {
    const { locks, machines, template, idOf } = machinesOn(
      (l) => l.directFunction,
      (l) => l.scopedFunction(TEAM_A),
    );
    const workers = [locks.directFunction, locks.scopedFunction(TEAM_A)].map(idOf);
    for (const id of workers) expect(envOf(template, id).LOCK_CALLERS).toBe(DIRECT_CALLERS.workers);
    // The operator's function takes any owner: operators act for anyone.
    expect(envOf(template, idOf(locks.operatorFunction))).not.toHaveProperty('LOCK_CALLERS');
    for (const machine of machines) {
      const invokable = invokableBy(template, idOf(machine));
      expect(invokable).toHaveLength(1);
      for (const id of [...workers, idOf(locks.operatorFunction)]) {
        expect(invokable).not.toContain(id);
      }
    }
  });
});
