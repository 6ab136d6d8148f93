import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LockOperation, LockService, type LockServiceProps } from '../../lib/cdk/lock-service.js';
import { LockServiceStack } from '../../lib/cdk/lock-service-stack.js';

// Template assertions need no bundle: skip esbuild here (lock-service.bundling.infra.test.ts bundles).
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

type Resource = { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function synth(lockService?: LockServiceProps): Template {
  const app = new App({ context: NO_BUNDLING });
  return Template.fromStack(new LockServiceStack(app, 'Test', { lockService }));
}

function resourcesOfType(template: Template, type: string): Resource[] {
  return Object.values(template.findResources(type)) as Resource[];
}

function logicalIdOf(template: Template, type: string, props: Record<string, unknown>): string {
  const ids = Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

/** Every IAM statement in the template: policies, inline role policies, managed policies. */
function allStatements(template: Template): Statement[] {
  const docs: { Statement: Statement[] }[] = [];
  for (const policy of resourcesOfType(template, 'AWS::IAM::Policy')) {
    docs.push(policy.Properties!.PolicyDocument as { Statement: Statement[] });
  }
  for (const policy of resourcesOfType(template, 'AWS::IAM::ManagedPolicy')) {
    docs.push(policy.Properties!.PolicyDocument as { Statement: Statement[] });
  }
  for (const role of resourcesOfType(template, 'AWS::IAM::Role')) {
    const inline = (role.Properties!.Policies ?? []) as {
      PolicyDocument: { Statement: Statement[] };
    }[];
    docs.push(...inline.map((p) => p.PolicyDocument));
  }
  return docs.flatMap((doc) => doc.Statement);
}

function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** `METHOD /full/path` of every API Gateway method, rebuilt from the resource tree. */
function apiRoutes(template: Template): Map<string, Resource> {
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const pathOf = (parentId: unknown): string => {
    const ref = (parentId as { Ref?: string }).Ref;
    if (!ref) return ''; // Fn::GetAtt [Api, RootResourceId]: the root
    const resource = resources[ref]!.Properties as { ParentId: unknown; PathPart: string };
    return `${pathOf(resource.ParentId)}/${resource.PathPart}`;
  };
  const routes = new Map<string, Resource>();
  for (const method of resourcesOfType(template, 'AWS::ApiGateway::Method')) {
    const props = method.Properties as { HttpMethod: string; ResourceId: unknown };
    routes.set(`${props.HttpMethod} ${pathOf(props.ResourceId) || '/'}`, method);
  }
  return routes;
}

const CONTRACT_ROUTES = [
  'POST /locks/{lockId}/acquire',
  'POST /locks/{lockId}/renew',
  'POST /locks/{lockId}/release',
  'GET /locks/{lockId}',
  'DELETE /locks/{lockId}',
];

describe('LockService with default props', () => {
  let template: Template;
  beforeAll(() => {
    template = synth();
  });

  describe('lock table', () => {
    it('matches the core schema: partition key lockId (string), TTL on ttl', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'lockId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'lockId', AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      });
    });

    it('is on-demand, with point-in-time recovery and encryption at rest (AWS managed key)', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent() },
        ProvisionedThroughput: Match.absent(),
      });
    });

    it('is retained, and protected from deletion, by default', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
      });
    });
  });

  describe('functions', () => {
    it("has the API function, the workers' and the operators' direct functions, nothing else", () => {
      template.resourceCountIs('AWS::Lambda::Function', 3);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('HTTP API'),
        Timeout: 29,
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^Lock service: direct invocation'),
        Timeout: 60,
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('operator direct invocation'),
        Timeout: 60,
      });
    });

    it('runs every function on Node.js 22 or newer, arm64, with active tracing and its own log group', () => {
      const functions = resourcesOfType(template, 'AWS::Lambda::Function');
      expect(functions.length).toBeGreaterThan(0);
      for (const fn of functions) {
        const props = fn.Properties as Record<string, unknown>;
        const major = /^nodejs(\d+)\.x$/.exec(props.Runtime as string)?.[1];
        expect(Number(major)).toBeGreaterThanOrEqual(22);
        expect(props.Architectures).toEqual(['arm64']);
        expect(props.TracingConfig).toEqual({ Mode: 'Active' });
        expect(props.LoggingConfig).toEqual({ LogGroup: { Ref: expect.any(String) } });
        expect(props.Handler).toBe('index.handler');
      }
    });

    it('configures the handlers through the environment (table name, Powertools)', () => {
      const table = logicalIdOf(template, 'AWS::DynamoDB::Table', {});
      const env = (fn: Resource) =>
        (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const fn of resourcesOfType(template, 'AWS::Lambda::Function')) {
        const workers = /^Lock service: direct invocation/.test(
          fn.Properties!.Description as string,
        );
        expect(env(fn)).toEqual({
          LOCK_TABLE_NAME: { Ref: table },
          POWERTOOLS_SERVICE_NAME: 'fenced-lock',
          POWERTOOLS_METRICS_NAMESPACE: 'FencedLock',
          // the bundle is minified: stack traces need its source map
          NODE_OPTIONS: '--enable-source-maps',
          // the workers' direct function refuses the operator's force release, and acts for
          // no execution (only the sections' function does)
          ...(workers
            ? { LOCK_ACTIONS: 'acquire,renew,release,get', LOCK_CALLERS: 'workers' }
            : {}),
        });
      }
    });

    it('keeps logs for a month by default', () => {
      const groups = resourcesOfType(template, 'AWS::Logs::LogGroup');
      expect(groups).toHaveLength(4); // three functions, API access logs
      for (const group of groups) expect(group.Properties!.RetentionInDays).toBe(30);
    });
  });

  describe('least privilege', () => {
    it('has no IAM statement with a wildcard action', () => {
      const statements = allStatements(template);
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        for (const action of actionsOf(statement)) expect(action).not.toMatch(/\*/);
      }
    });

    it('gives each function only UpdateItem, GetItem and Scan (to list locks), on this table', () => {
      const table = logicalIdOf(template, 'AWS::DynamoDB::Table', {});
      const dynamo = allStatements(template).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('dynamodb:')),
      );
      expect(dynamo).toHaveLength(3); // one per function role
      for (const statement of dynamo) {
        expect(statement).toEqual({
          Effect: 'Allow',
          Action: ['dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:Scan'],
          Resource: { 'Fn::GetAtt': [table, 'Arn'] },
        });
      }
    });

    it('uses no AWS managed policy on the function roles (logs only to their own group)', () => {
      const lambdaRoles = resourcesOfType(template, 'AWS::IAM::Role').filter((role) =>
        JSON.stringify(role.Properties!.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
      );
      expect(lambdaRoles).toHaveLength(3);
      for (const role of lambdaRoles) expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
      const logStatements = allStatements(template).filter((s) =>
        actionsOf(s).includes('logs:PutLogEvents'),
      );
      expect(logStatements).toHaveLength(3);
      for (const s of logStatements) {
        expect(s.Resource).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
      }
    });
  });

  describe('REST API', () => {
    it('routes the contract routes to the API function as Lambda proxy', () => {
      const routes = apiRoutes(template);
      const apiFunction = logicalIdOf(template, 'AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('HTTP API'),
      });
      for (const route of CONTRACT_ROUTES) {
        const method = routes.get(route);
        expect(method).toBeDefined();
        const integration = method!.Properties!.Integration as Record<string, unknown>;
        expect(integration.Type).toBe('AWS_PROXY');
        expect(JSON.stringify(integration.Uri)).toContain(apiFunction);
      }
    });

    it('requires IAM (SigV4) authorization on every method', () => {
      const methods = resourcesOfType(template, 'AWS::ApiGateway::Method');
      expect(methods.length).toBeGreaterThanOrEqual(CONTRACT_ROUTES.length);
      for (const method of methods) {
        expect(method.Properties!.AuthorizationType).toBe('AWS_IAM');
      }
    });

    it('sends unknown routes and methods to the handler (JSON 404/405), still IAM-authorized', () => {
      const routes = apiRoutes(template);
      for (const route of [
        'ANY /',
        'ANY /{proxy+}',
        'ANY /locks',
        'ANY /locks/{lockId}',
        'ANY /locks/{lockId}/acquire',
      ]) {
        expect(routes.get(route)?.Properties!.AuthorizationType).toBe('AWS_IAM');
      }
    });

    it('validates bodies and path parameters', () => {
      template.resourceCountIs('AWS::ApiGateway::RequestValidator', 1);
      template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
        ValidateRequestBody: true,
        ValidateRequestParameters: true,
      });
      const model = logicalIdOf(template, 'AWS::ApiGateway::Model', {
        ContentType: 'application/json',
        Schema: Match.objectLike({ type: 'object' }),
      });
      const routes = apiRoutes(template);
      for (const route of CONTRACT_ROUTES) {
        const props = routes.get(route)!.Properties!;
        expect(props.RequestValidatorId).toEqual({ Ref: expect.any(String) });
        expect(props.RequestParameters).toEqual({ 'method.request.path.lockId': true });
        if (route.startsWith('POST')) {
          expect(props.RequestModels).toEqual({ 'application/json': { Ref: model } });
        }
      }
    });

    it('answers gateway-made errors in the API error shape', () => {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'BAD_REQUEST_BODY',
        StatusCode: '400',
        ResponseTemplates: {
          'application/json': Match.stringLikeRegexp('"error":"ValidationError"'),
        },
      });
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'DEFAULT_5XX',
        ResponseTemplates: {
          'application/json': Match.stringLikeRegexp('"error":"InternalError"'),
        },
      });
    });

    it('throttles the stage (100/s, burst 200), traces it, and writes JSON access logs', () => {
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        TracingEnabled: true,
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: 100,
            ThrottlingBurstLimit: 200,
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
          }),
        ]),
        AccessLogSetting: {
          DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AccessLogs'), 'Arn'] },
          Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
        },
      });
    });
  });

  it('has alarms on handler errors and faults, API 5XX, DynamoDB throttles and system errors', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    const lambdaErrorAlarms = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { Namespace: 'AWS/Lambda', MetricName: 'Errors' },
      }),
    );
    expect(lambdaErrorAlarms).toHaveLength(1);
    const [dimension] = (
      lambdaErrorAlarms[0].Properties as { Dimensions: { Value: { Ref: string } }[] }
    ).Dimensions;
    // It watches the API function (the one API Gateway invokes), not the direct one.
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [dimension.Value.Ref, 'Arn'] },
      Principal: 'apigateway.amazonaws.com',
    });
    // The direct function throws LockHeld by design, so faults come from the handlers' metric.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'FencedLock',
      MetricName: 'InternalErrors',
      Dimensions: [{ Name: 'service', Value: 'fenced-lock' }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
    });
    for (const metricName of ['ThrottledRequests', 'SystemErrors']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({ Namespace: 'AWS/DynamoDB', MetricName: metricName }),
            }),
          }),
        ]),
      });
    }
  });

  it('outputs the API URL, the table name and the function names', () => {
    const table = logicalIdOf(template, 'AWS::DynamoDB::Table', {});
    template.hasOutput('ApiUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith(['https://', '.execute-api.'])] },
    });
    template.hasOutput('TableName', { Value: { Ref: table } });
    for (const name of ['ApiFunctionName', 'DirectFunctionName', 'OperatorFunctionName']) {
      template.hasOutput(name, { Value: { Ref: Match.stringLikeRegexp('Function') } });
    }
    template.hasOutput('DirectFunctionArn', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('DirectFunction'), 'Arn'] },
    });
  });
});

describe('LockService props', () => {
  it('deletes the table and logs with the stack when removalPolicy is DESTROY', () => {
    const template = synth({ removalPolicy: RemovalPolicy.DESTROY });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
      expect(group.DeletionPolicy).toBe('Delete');
    }
  });

  it('encrypts with a customer managed key and grants only the key actions DynamoDB needs', () => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'Cmk');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new LockService(stack, 'Locks', { encryptionKey: key });
    const template = Template.fromStack(stack);
    const keyId = logicalIdOf(template, 'AWS::KMS::Key', {});
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      },
    });
    const keyStatements = allStatements(template).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('kms:')),
    );
    expect(keyStatements).toHaveLength(3); // one per function role
    for (const s of keyStatements) {
      expect(actionsOf(s).sort()).toEqual([
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
      ]);
    }
  });

  it('passes handler settings through the environment only when set', () => {
    const template = synth({
      defaultLeaseMs: 10_000,
      retentionMs: 7_200_000,
      maxHttpWaitMs: 20_000,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('HTTP API'),
      Environment: {
        Variables: Match.objectLike({
          DEFAULT_LEASE_MS: '10000',
          RETENTION_MS: '7200000',
          MAX_HTTP_WAIT_MS: '20000',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('direct invocation'),
      Environment: {
        Variables: Match.objectLike({
          DEFAULT_LEASE_MS: '10000',
          RETENTION_MS: '7200000',
          MAX_HTTP_WAIT_MS: Match.absent(),
        }),
      },
    });
  });

  it('applies throttling, stage name, log retention, runtime, memory and timeout props', () => {
    const template = synth({
      throttlingRateLimit: 7,
      throttlingBurstLimit: 9,
      stageName: 'v1',
      logRetention: logs.RetentionDays.ONE_WEEK,
      runtime: lambda.Runtime.NODEJS_24_X,
      memorySize: 512,
      directFunctionTimeout: Duration.minutes(5),
      cloudWatchRole: false,
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 })],
    });
    for (const group of resourcesOfType(template, 'AWS::Logs::LogGroup')) {
      expect(group.Properties!.RetentionInDays).toBe(7);
    }
    for (const fn of resourcesOfType(template, 'AWS::Lambda::Function')) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', MemorySize: 512 });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('direct invocation'),
      Timeout: 300,
    });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it.each([
    ['defaultLeaseMs', { defaultLeaseMs: 999 }],
    ['retentionMs', { retentionMs: 60_000 }],
    ['maxHttpWaitMs', { maxHttpWaitMs: 29_000 }],
    ['throttlingRateLimit', { throttlingRateLimit: 0 }],
    ['memorySize', { memorySize: 64.5 }],
  ])('refuses an out-of-range %s at synth, naming it', (name, props) => {
    expect(() => synth(props)).toThrow(name);
  });
});

describe('grant methods', () => {
  function consumer() {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'Consumer');
    const locks = new LockService(stack, 'Locks');
    const role = new iam.Role(stack, 'Worker', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const roleStatements = (template: Template): Statement[] => {
      const roleId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
      return resourcesOfType(template, 'AWS::IAM::Policy')
        .filter((p) => JSON.stringify(p.Properties!.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
    };
    return { stack, locks, role, roleStatements };
  }

  /** `arn:...:execute-api:...:api/stage/METHOD/path` flattened to `METHOD/path` for reading. */
  function routesOf(resource: unknown): string[] {
    const arns = Array.isArray(resource) ? resource : [resource];
    return arns.map((arn) => {
      const parts = (arn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      const tail = parts[parts.length - 1] as string;
      return tail.replace(/^\//, '');
    });
  }

  it("grantInvokeApi grants execute-api:Invoke on the four workers' routes and the listing, not force release", () => {
    const { stack, locks, role, roleStatements } = consumer();
    const grant = locks.grantInvokeApi(role);
    expect(grant.success).toBe(true);
    const statements = roleStatements(Template.fromStack(stack));
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Action).toBe('execute-api:Invoke');
    expect(routesOf(statements[0]!.Resource).sort()).toEqual(
      [
        'POST/locks/*/acquire',
        'POST/locks/*/renew',
        'POST/locks/*/release',
        'GET/locks/*',
        'GET/locks',
      ].sort(),
    );
  });

  it('grantInvokeApi grants force release only when named', () => {
    const { stack, locks, role, roleStatements } = consumer();
    locks.grantInvokeApi(role, LockOperation.FORCE_RELEASE);
    const [statement, ...rest] = roleStatements(Template.fromStack(stack));
    expect(rest).toHaveLength(0);
    expect(routesOf(statement!.Resource)).toEqual(['DELETE/locks/*']);
  });

  it('grantOperator grants the force release route and the operator function, nothing else', () => {
    const { stack, locks, role, roleStatements } = consumer();
    const grant = locks.grantOperator(role);
    expect(grant.success).toBe(true);
    const template = Template.fromStack(stack);
    const operator = logicalIdOf(template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('operator direct invocation'),
    });
    const statements = roleStatements(template);
    expect(statements).toHaveLength(2);
    const api = statements.find((s) => s.Action === 'execute-api:Invoke')!;
    expect(routesOf(api.Resource)).toEqual(['DELETE/locks/*']);
    expect(statements.find((s) => s.Action === 'lambda:InvokeFunction')).toEqual({
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: { 'Fn::GetAtt': [operator, 'Arn'] },
    });
  });

  it('grantInvokeApi narrows to the operations given', () => {
    const { stack, locks, role, roleStatements } = consumer();
    locks.grantInvokeApi(role, LockOperation.GET, LockOperation.ACQUIRE);
    const [statement, ...rest] = roleStatements(Template.fromStack(stack));
    expect(rest).toHaveLength(0);
    expect(routesOf(statement!.Resource).sort()).toEqual(['GET/locks/*', 'POST/locks/*/acquire']);
  });

  it('grantInvokeFunctions grants lambda:InvokeFunction on the direct function only', () => {
    const { stack, locks, role, roleStatements } = consumer();
    locks.grantInvokeFunctions(role);
    const template = Template.fromStack(stack);
    const direct = logicalIdOf(template, 'AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Lock service: direct invocation'),
    });
    expect(roleStatements(template)).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [direct, 'Arn'] },
      },
    ]);
  });

  it('grantListLocks grants Scan on the table only', () => {
    const { stack, locks, role, roleStatements } = consumer();
    locks.grantListLocks(role);
    const template = Template.fromStack(stack);
    const table = logicalIdOf(template, 'AWS::DynamoDB::Table', {});
    expect(roleStatements(template)).toEqual([
      { Effect: 'Allow', Action: 'dynamodb:Scan', Resource: { 'Fn::GetAtt': [table, 'Arn'] } },
    ]);
  });

  it('grantTableAccess grants UpdateItem and GetItem on the table only', () => {
    const { stack, locks, role, roleStatements } = consumer();
    locks.grantTableAccess(role);
    const template = Template.fromStack(stack);
    const table = logicalIdOf(template, 'AWS::DynamoDB::Table', {});
    expect(roleStatements(template)).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
        Resource: { 'Fn::GetAtt': [table, 'Arn'] },
      },
    ]);
  });
});
