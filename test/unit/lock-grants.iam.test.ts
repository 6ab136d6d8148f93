// Every grant of LockService, checked by an independent IAM policy evaluator
// (@cloud-copilot/iam-simulate) on the synthesized policies: each grant kind's role is asked for
// every request of one fixed set (each way in: table, API route, direct function) and must be
// allowed exactly the requests its grant names, every other one denied. The grantees include
// state machines with a LockedSection, whose roles must reach only their scope's section function.
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { LockApiType } from '../../lib/cdk/api-type.js';
import { LockedSection } from '../../lib/cdk/locked-section.js';
import { LockOperation, LockService } from '../../lib/cdk/lock-service.js';
import { leadingKeysCondition } from '../../lib/cdk/lock-scope.js';
import { LIST } from '../../lib/contract/list.js';
import {
  OPERATION_NAMES,
  OPERATIONS,
  OPERATOR_OPERATIONS,
  type OperationName,
  WORKER_OPERATIONS,
} from '../../lib/contract/operations.js';
import { RESERVED_LOCK_ID_PREFIX } from '../../lib/core/validation.js';
import {
  ACCOUNT,
  type CfnTemplate,
  type IamRequest,
  isAllowed,
  mismatches,
  type PolicyDocument,
  REGION,
  resolveValue,
  rolePolicies,
} from '../support/iam-eval.js';

// Template assertions need no bundle: skip esbuild here.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

const TEAM_A = { prefixes: ['team-a/'] };
const TEAM_B = { prefixes: ['team-b/'] };
/** A lock id inside TEAM_A, one outside it, and an owner registry key (U+0000, outside every scope). */
const IN_SCOPE = 'team-a/job-1';
const OUT_OF_SCOPE = 'team-b/job-1';
const REGISTRY_KEY = `${RESERVED_LOCK_ID_PREFIX}owner:worker-1`;
const LOCK_IDS = [IN_SCOPE, OUT_OF_SCOPE, REGISTRY_KEY];

/** The actions on items, each asked with the item's key as `dynamodb:LeadingKeys`. */
const KEYED_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:UpdateItem',
  'dynamodb:PutItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
];
/** Actions that name no key (asked without `dynamodb:LeadingKeys`). */
const UNKEYED_ACTIONS = ['dynamodb:Scan', 'dynamodb:DescribeTable'];

const tableLabel = (action: string, lockId?: string) =>
  lockId === undefined ? `${action} on the table` : `${action} on ${JSON.stringify(lockId)}`;
const tableLabels = (actions: readonly string[], lockIds: readonly string[] = LOCK_IDS) =>
  actions.flatMap((action) => lockIds.map((lockId) => tableLabel(action, lockId)));

/** The route of an operation with a concrete lock id, as it appears in the execute-api ARN. */
const routeOf = (operation: OperationName, lockId: string) =>
  `${OPERATIONS[operation].method}${OPERATIONS[operation].path.replace('{lockId}', encodeURIComponent(lockId))}`;
const LIST_ROUTE = `${LIST.method}${LIST.path}`;
const routeLabel = (route: string) => `execute-api:Invoke ${route}`;
/** Only the ids a route may carry (no U+0000: the API refuses it before any grant matters). */
const API_LOCK_IDS = [IN_SCOPE, OUT_OF_SCOPE];
const routeLabels = (operations: readonly OperationName[]) =>
  operations.flatMap((op) => API_LOCK_IDS.map((id) => routeLabel(routeOf(op, id))));

const FUNCTION_NAMES = [
  'directFunction',
  'operatorFunction',
  'apiFunction',
  'scopedFunction(team-a/)',
  'scopedFunction(team-b/)',
  'sectionFunction()',
  'sectionFunction(team-a/)',
] as const;
type FunctionName = (typeof FUNCTION_NAMES)[number];
const functionLabel = (name: FunctionName) => `lambda:InvokeFunction ${name}`;

/** What each principal must be allowed; every other request of the set must be denied. */
const WORKER_ROUTES = [...routeLabels(WORKER_OPERATIONS), routeLabel(LIST_ROUTE)];
const OPERATOR_ROUTES = routeLabels(OPERATOR_OPERATIONS);
const SECTION_FUNCTIONS = [
  functionLabel('sectionFunction()'),
  functionLabel('sectionFunction(team-a/)'),
];
const HANDLER_TABLE_ACCESS = [
  ...tableLabels(['dynamodb:UpdateItem', 'dynamodb:GetItem']),
  tableLabel('dynamodb:Scan'),
];
const EXPECTED = {
  tableAll: tableLabels(['dynamodb:UpdateItem', 'dynamodb:GetItem']),
  tableScoped: tableLabels(['dynamodb:UpdateItem', 'dynamodb:GetItem'], [IN_SCOPE]),
  releaseAllHeld: tableLabels(['dynamodb:UpdateItem']),
  listLocks: [tableLabel('dynamodb:Scan')],
  apiWorkers: WORKER_ROUTES,
  // The same as apiWorkers: IAM allows a route for any lock id (the grant's ARNs have `*` for
  // it). The API function narrows a scoped caller to its prefixes (LOCK_API_SCOPES), which
  // test/integration/api-scopes.test.ts checks.
  apiScoped: WORKER_ROUTES,
  apiOperator: OPERATOR_ROUTES,
  functionsAll: [functionLabel('directFunction')],
  functionsScoped: [functionLabel('scopedFunction(team-a/)')],
  operator: [...OPERATOR_ROUTES, functionLabel('operatorFunction')],
  // The roles of state machines with a LockedSection given the workers' functions: each reaches
  // its scope's section function only, the one that acts for executions.
  'machine with a section on directFunction': [functionLabel('sectionFunction()')],
  'machine with a section on scopedFunction(team-a/)': [functionLabel('sectionFunction(team-a/)')],
  // The handlers' own roles: the whole table (a scoped function narrows by LOCK_PREFIXES in
  // its handler, not by IAM), and nothing to invoke.
  'apiFunction role': HANDLER_TABLE_ACCESS,
  'directFunction role': HANDLER_TABLE_ACCESS,
  'operatorFunction role': HANDLER_TABLE_ACCESS,
  'scopedFunction(team-a/) role': HANDLER_TABLE_ACCESS,
  'sectionFunction() role': HANDLER_TABLE_ACCESS,
  'sectionFunction(team-a/) role': HANDLER_TABLE_ACCESS,
} satisfies Record<string, string[]>;
type Principal =
  | keyof typeof EXPECTED
  | 'widenedPrefix'
  | 'dynamodbStar'
  | 'workerWithDelete'
  | 'workerWithSection';

const logicalId = (construct: Construct) =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);

interface Synthesized {
  template: CfnTemplate;
  /** Every request of the set: each table action on each key, each route with each id, each function. */
  requests: IamRequest[];
  /** The logical id of each principal's role. */
  roles: Record<Principal | 'noPolicy' | 'allowAll', string>;
}

function synthesize(apiType: LockApiType): Synthesized {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Grants', { env: { account: ACCOUNT, region: REGION } });
  const locks = new LockService(stack, 'Locks', { apiType });
  const role = (id: string) =>
    new iam.Role(stack, id, { assumedBy: new iam.AccountRootPrincipal() });
  const roles = {} as Record<string, string>;
  const add = (name: string, grant: (r: iam.Role) => unknown) => {
    const r = role(name);
    grant(r);
    roles[name] = logicalId(r);
  };

  add('tableAll', (r) => locks.grantTableAccess(r));
  add('tableScoped', (r) => locks.grantTableAccess(r, TEAM_A));
  add('releaseAllHeld', (r) => locks.grantReleaseAllHeld(r));
  add('listLocks', (r) => locks.grantListLocks(r));
  add('apiWorkers', (r) => locks.grantInvokeApi(r));
  add('apiScoped', (r) => locks.grantInvokeApiScoped(r, TEAM_A));
  add('apiOperator', (r) => locks.grantInvokeApi(r, LockOperation.FORCE_RELEASE));
  add('functionsAll', (r) => locks.grantInvokeFunctions(r));
  add('functionsScoped', (r) => locks.grantInvokeFunctions(r, TEAM_A));
  add('operator', (r) => locks.grantOperator(r));

  // Deliberately over-broad: the evaluator must catch each of these.
  add('widenedPrefix', (r) => {
    locks.grantTableAccess(r, TEAM_A);
    // A prefix widened by a wildcard: `team-*` also covers team-b/.
    r.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
        resources: [locks.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['team-*'] } },
      }),
    );
  });
  add('dynamodbStar', (r) => {
    locks.grantTableAccess(r, TEAM_A);
    r.addToPolicy(new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }));
  });
  add('workerWithDelete', (r) => {
    locks.grantInvokeApi(r);
    locks.grantInvokeApi(r, LockOperation.FORCE_RELEASE);
  });
  add('workerWithSection', (r) => {
    locks.grantInvokeFunctions(r);
    // What a worker must never hold: the function that acts for executions.
    locks.sectionFunction().grantInvoke(r);
  });
  add('noPolicy', () => undefined);
  add('allowAll', (r) =>
    r.addToPolicy(new iam.PolicyStatement({ actions: ['*'], resources: ['*'] })),
  );

  // State machines locking through the workers' functions: the section maps each to its scope's
  // section function, and the machine's role (read from the template) is the grantee.
  const machines = {
    'machine with a section on directFunction': locks.directFunction,
    'machine with a section on scopedFunction(team-a/)': locks.scopedFunction(TEAM_A),
  };
  const machineIds = Object.entries(machines).map(([name, lockFunction], i) => {
    const section = new LockedSection(stack, `Section${i}`, { lockFunction, lockId: IN_SCOPE });
    const machine = new sfn.StateMachine(stack, `Machine${i}`, {
      definitionBody: sfn.DefinitionBody.fromChainable(
        section.wrap(new sfn.Pass(stack, `Work${i}`)),
      ),
    });
    return [name, logicalId(machine)] as const;
  });

  const functions: Record<FunctionName, lambda.Function> = {
    directFunction: locks.directFunction,
    operatorFunction: locks.operatorFunction,
    apiFunction: locks.apiFunction,
    'scopedFunction(team-a/)': locks.scopedFunction(TEAM_A),
    'scopedFunction(team-b/)': locks.scopedFunction(TEAM_B),
    // The ones the sections made (the same scope gives the same function).
    'sectionFunction()': locks.sectionFunction(),
    'sectionFunction(team-a/)': locks.sectionFunction(TEAM_A),
  };
  for (const name of [
    'apiFunction',
    'directFunction',
    'operatorFunction',
    'scopedFunction(team-a/)',
    'sectionFunction()',
    'sectionFunction(team-a/)',
  ] as const) {
    roles[`${name} role`] = logicalId(functions[name].role as iam.Role);
  }

  const template = Template.fromStack(stack).toJSON() as CfnTemplate;
  for (const [name, machineId] of machineIds) {
    const { RoleArn } = template.Resources[machineId]!.Properties as { RoleArn: unknown };
    const { 'Fn::GetAtt': [roleId, attribute] = [] } = RoleArn as { 'Fn::GetAtt'?: string[] };
    if (attribute !== 'Arn' || template.Resources[roleId!]?.Type !== 'AWS::IAM::Role') {
      throw new Error(`${name}: RoleArn is not a role of the template: ${JSON.stringify(RoleArn)}`);
    }
    roles[name] = roleId!;
  }
  const resolve = (value: unknown) => resolveValue(template, stack.resolve(value)) as string;
  const tableArn = resolve(locks.table.tableArn);
  const apiArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${resolve({ Ref: logicalId(locks.api) })}/${stageName(template)}/`;
  const requests: IamRequest[] = [
    ...KEYED_ACTIONS.flatMap((action) =>
      LOCK_IDS.map((lockId) => ({
        label: tableLabel(action, lockId),
        action,
        resource: tableArn,
        context: { 'dynamodb:LeadingKeys': [lockId] },
      })),
    ),
    ...UNKEYED_ACTIONS.map((action) => ({ label: tableLabel(action), action, resource: tableArn })),
    ...[
      ...OPERATION_NAMES.flatMap((op) => API_LOCK_IDS.map((id) => routeOf(op, id))),
      LIST_ROUTE,
    ].map((route) => ({
      label: routeLabel(route),
      action: 'execute-api:Invoke',
      resource: apiArn + route,
    })),
    ...FUNCTION_NAMES.map((name) => ({
      label: functionLabel(name),
      action: 'lambda:InvokeFunction',
      resource: resolve(functions[name].functionArn),
    })),
  ];
  return { template, requests, roles: roles as Synthesized['roles'] };
}

/** The stage's name, read from the template (exactly one stage of either API kind). */
function stageName(template: CfnTemplate): string {
  const stages = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::ApiGateway::Stage' || r.Type === 'AWS::ApiGatewayV2::Stage',
  );
  if (stages.length !== 1) throw new Error(`expected one API stage, found ${stages.length}`);
  return resolveValue(template, stages[0]!.Properties!.StageName) as string;
}

describe.each([LockApiType.REST, LockApiType.HTTP])('grants on a %s API service', (apiType) => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthesize(apiType);
  });

  const principalOf = (name: keyof Synthesized['roles']) =>
    resolveValue(synthesized.template, {
      'Fn::GetAtt': [synthesized.roles[name], 'Arn'],
    }) as string;
  const check = (name: keyof Synthesized['roles'], expected: readonly string[]) =>
    mismatches(
      principalOf(name),
      rolePolicies(synthesized.template, synthesized.roles[name]),
      synthesized.requests,
      new Set(expected),
    );

  it.each(Object.entries(EXPECTED))(
    '%s: allowed exactly what it grants, every other request denied',
    async (name, expected) => {
      expect(await check(name as keyof typeof EXPECTED, expected)).toEqual([]);
    },
  );

  it('operator actions (DELETE route, operatorFunction) are denied to every worker grant', async () => {
    // Already within the exact checks above; stated on its own because it is the line.
    const operatorRequests = synthesized.requests.filter((r) =>
      [...OPERATOR_ROUTES, functionLabel('operatorFunction')].includes(r.label),
    );
    expect(operatorRequests).toHaveLength(OPERATOR_ROUTES.length + 1);
    for (const name of [
      'tableAll',
      'tableScoped',
      'apiWorkers',
      'apiScoped',
      'functionsAll',
      'functionsScoped',
    ] as const) {
      const policies = rolePolicies(synthesized.template, synthesized.roles[name]);
      for (const request of operatorRequests) {
        expect([
          name,
          request.label,
          await isAllowed(principalOf(name), policies, request),
        ]).toEqual([name, request.label, false]);
      }
    }
  });

  it('section functions are denied to every worker grant, and to the operator', async () => {
    // Within the exact checks above too: a worker that could invoke a section function could act
    // for an execution (an owner the cleanup ends) and register owners for the cleanup.
    const sectionRequests = synthesized.requests.filter((r) => SECTION_FUNCTIONS.includes(r.label));
    expect(sectionRequests).toHaveLength(SECTION_FUNCTIONS.length);
    for (const name of [
      'tableAll',
      'tableScoped',
      'releaseAllHeld',
      'listLocks',
      'apiWorkers',
      'apiScoped',
      'functionsAll',
      'functionsScoped',
      'operator',
    ] as const) {
      const policies = rolePolicies(synthesized.template, synthesized.roles[name]);
      for (const request of sectionRequests) {
        expect([
          name,
          request.label,
          await isAllowed(principalOf(name), policies, request),
        ]).toEqual([name, request.label, false]);
      }
    }
  });

  it("a section's state machine reaches only its own scope's section function", async () => {
    // Stated on its own: not the workers' functions (which refuse executions), not the
    // operator's, not the section function of all locks for a scoped section, nor the reverse.
    const functionRequests = synthesized.requests.filter(
      (r) => r.action === 'lambda:InvokeFunction',
    );
    expect(functionRequests).toHaveLength(FUNCTION_NAMES.length);
    const allowed = async (name: keyof typeof EXPECTED) => {
      const policies = rolePolicies(synthesized.template, synthesized.roles[name]);
      const labels: string[] = [];
      for (const request of functionRequests) {
        if (await isAllowed(principalOf(name), policies, request)) labels.push(request.label);
      }
      return labels;
    };
    expect(await allowed('machine with a section on directFunction')).toEqual([
      functionLabel('sectionFunction()'),
    ]);
    expect(await allowed('machine with a section on scopedFunction(team-a/)')).toEqual([
      functionLabel('sectionFunction(team-a/)'),
    ]);
  });

  describe("the evaluator's teeth", () => {
    it('catches a scope widened by a wildcard (team-*) in the "denied outside the scope" check', async () => {
      expect(await check('widenedPrefix', EXPECTED.tableScoped)).toEqual([
        `allowed, expected denied: ${tableLabel('dynamodb:GetItem', OUT_OF_SCOPE)}`,
        `allowed, expected denied: ${tableLabel('dynamodb:UpdateItem', OUT_OF_SCOPE)}`,
      ]);
    });

    it('catches dynamodb:* on * beside a scoped grant: every other table request', async () => {
      const tableRequests = synthesized.requests.filter((r) => r.action.startsWith('dynamodb:'));
      const others = tableRequests.filter((r) => !EXPECTED.tableScoped.includes(r.label));
      expect(others.length).toBeGreaterThan(10);
      expect(await check('dynamodbStar', EXPECTED.tableScoped)).toEqual(
        others.map((r) => `allowed, expected denied: ${r.label}`),
      );
    });

    it("catches a worker given the operator's route", async () => {
      expect(await check('workerWithDelete', EXPECTED.apiWorkers)).toEqual(
        OPERATOR_ROUTES.map((label) => `allowed, expected denied: ${label}`),
      );
    });

    it('catches a worker given the section function', async () => {
      expect(await check('workerWithSection', EXPECTED.functionsAll)).toEqual([
        `allowed, expected denied: ${functionLabel('sectionFunction()')}`,
      ]);
    });

    it("catches a scoped section's machine checked against another scope's function", async () => {
      expect(
        await check(
          'machine with a section on scopedFunction(team-a/)',
          EXPECTED['machine with a section on directFunction'],
        ),
      ).toEqual([
        `denied, expected allowed: ${functionLabel('sectionFunction()')}`,
        `allowed, expected denied: ${functionLabel('sectionFunction(team-a/)')}`,
      ]);
    });

    it('reports a grant narrower than expected too', async () => {
      const missing = EXPECTED.tableAll.filter((label) => !EXPECTED.tableScoped.includes(label));
      expect((await check('tableScoped', EXPECTED.tableAll)).sort()).toEqual(
        missing.map((label) => `denied, expected allowed: ${label}`).sort(),
      );
    });

    it('denies every request to a role with no policy, and allows every one to * on *', async () => {
      expect(await check('noPolicy', [])).toEqual([]);
      // So every request of the set is one the simulator can allow: the denials above are the
      // policies' doing, not malformed requests.
      expect(
        await check(
          'allowAll',
          synthesized.requests.map((r) => r.label),
        ),
      ).toEqual([]);
    });
  });
});

describe('grantTableAccess with a customer managed key', () => {
  it('gives the key actions (KMS has no lock id to scope by) and keeps the items scoped', async () => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'Keyed', { env: { account: ACCOUNT, region: REGION } });
    const key = new kms.Key(stack, 'Key');
    const locks = new LockService(stack, 'Locks', { encryptionKey: key });
    const role = new iam.Role(stack, 'TeamA', { assumedBy: new iam.AccountRootPrincipal() });
    locks.grantTableAccess(role, TEAM_A);
    const template = Template.fromStack(stack).toJSON() as CfnTemplate;
    const resolve = (value: unknown) => resolveValue(template, stack.resolve(value));

    // KMS decides by the key policy too: the simulator needs it as the resource policy.
    const keyPolicy = resolve(
      template.Resources[logicalId(key)]!.Properties!.KeyPolicy,
    ) as PolicyDocument;
    const keyArn = resolve(key.keyArn) as string;
    const keyRequest = (action: string): IamRequest => ({
      label: action,
      action,
      resource: keyArn,
      resourcePolicy: keyPolicy,
    });
    const tableArn = resolve(locks.table.tableArn) as string;
    const item = (action: string, lockId: string): IamRequest => ({
      label: tableLabel(action, lockId),
      action,
      resource: tableArn,
      context: { 'dynamodb:LeadingKeys': [lockId] },
    });
    const keyActions = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];
    const requests = [
      ...keyActions.map(keyRequest),
      keyRequest('kms:ScheduleKeyDeletion'),
      keyRequest('kms:CreateGrant'),
      ...LOCK_IDS.map((lockId) => item('dynamodb:UpdateItem', lockId)),
    ];
    const principal = resolve({ 'Fn::GetAtt': [logicalId(role), 'Arn'] }) as string;
    expect(
      await mismatches(
        principal,
        rolePolicies(template, logicalId(role)),
        requests,
        new Set([...keyActions, tableLabel('dynamodb:UpdateItem', IN_SCOPE)]),
      ),
    ).toEqual([]);
  });
});

describe('the checking itself', () => {
  const template: CfnTemplate = {
    Resources: {
      Table: { Type: 'AWS::DynamoDB::Table' },
      Bucket: { Type: 'AWS::S3::Bucket' },
    },
  };

  it('resolves the intrinsics grants use to concrete ARNs', () => {
    expect(
      resolveValue(template, {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':x:', { Ref: 'AWS::Region' }]],
      }),
    ).toBe(`arn:aws:x:${REGION}`);
    expect(resolveValue(template, { 'Fn::Sub': '${Table.Arn}/index/${AWS::AccountId}' })).toBe(
      `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Table/index/${ACCOUNT}`,
    );
  });

  it('throws on what it cannot resolve, rather than leaving a wildcard or a hole', () => {
    expect(() => resolveValue(template, { 'Fn::ImportValue': 'SharedTableArn' })).toThrow(
      /unknown intrinsic Fn::ImportValue/,
    );
    expect(() => resolveValue(template, { 'Fn::GetAtt': ['Bucket', 'Arn'] })).toThrow(
      /AWS::S3::Bucket/,
    );
    expect(() => resolveValue(template, { Ref: 'Missing' })).toThrow(/no resource Missing/);
  });

  it('refuses a context key the simulator would ignore, and a wildcard resource', async () => {
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*' }],
    };
    const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Locks`;
    const principal = `arn:aws:iam::${ACCOUNT}:role/R`;
    // Misspelled: the simulator drops it, so a condition on the real key would go unchecked.
    const misspelled = {
      label: 'misspelled key',
      action: 'dynamodb:GetItem',
      resource: tableArn,
      context: { 'dynamodb:LeadingKey': [IN_SCOPE] },
    };
    await expect(isAllowed(principal, [policy], misspelled)).rejects.toThrow(
      /ignored context keys/,
    );
    const wildcard = { label: 'wildcard', action: 'dynamodb:GetItem', resource: `${tableArn}*` };
    await expect(isAllowed(principal, [policy], wildcard)).rejects.toThrow(/one concrete ARN/);
  });

  it('checks every value of a multi-valued dynamodb:LeadingKeys, and passes a request without it', async () => {
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'dynamodb:BatchGetItem',
          Resource: '*',
          Condition: leadingKeysCondition(TEAM_A.prefixes),
        },
      ],
    };
    const principal = `arn:aws:iam::${ACCOUNT}:role/R`;
    const batch = (lockIds?: string[]): IamRequest => ({
      label: `BatchGetItem ${JSON.stringify(lockIds)}`,
      action: 'dynamodb:BatchGetItem',
      resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Locks`,
      ...(lockIds ? { context: { 'dynamodb:LeadingKeys': lockIds } } : {}),
    });
    expect(await isAllowed(principal, [policy], batch([IN_SCOPE, 'team-a/job-2']))).toBe(true);
    expect(await isAllowed(principal, [policy], batch([IN_SCOPE, OUT_OF_SCOPE]))).toBe(false);
    // ForAllValues holds for an absent key, as in AWS: why the scoped grant names only actions
    // that always carry a key, and why the request set asks keyed actions only with their key.
    expect(await isAllowed(principal, [policy], batch())).toBe(true);
  });
});
