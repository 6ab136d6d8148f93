import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LockApiType } from '../../lib/cdk/api-type.js';
import { LockOperation, LockService, type LockServiceProps } from '../../lib/cdk/lock-service.js';
import { LockServiceStack } from '../../lib/cdk/lock-service-stack.js';
import { ROUTES } from '../../lib/contract/http.js';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const HTTP = { apiType: LockApiType.HTTP } as const;

function synth(lockService: LockServiceProps = {}): Template {
  const app = new App({ context: NO_BUNDLING });
  return Template.fromStack(
    new LockServiceStack(app, 'Test', { lockService: { ...HTTP, ...lockService } }),
  );
}

/** Every `METHOD /path` of the contract, from ROUTES. */
const CONTRACT_ROUTE_KEYS = Object.entries(ROUTES).flatMap(([path, methods]) =>
  Object.keys(methods).map((method) => `${method} ${path}`),
);

describe('LockService with apiType HTTP', () => {
  let template: Template;
  beforeAll(() => {
    template = synth();
  });

  it('builds an HTTP API instead of the REST API', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      Name: Match.stringLikeRegexp('LockService'),
    });
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    // An HTTP API writes access logs without the account-level API Gateway role.
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('has one route per contract method, each to the API function with payload format 2.0', () => {
    expect(CONTRACT_ROUTE_KEYS).toHaveLength(5);
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      TimeoutInMillis: 29_000,
      IntegrationUri: { 'Fn::GetAtt': [Match.stringLikeRegexp('ApiFunction'), 'Arn'] },
    });
    for (const routeKey of CONTRACT_ROUTE_KEYS) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey,
        AuthorizationType: 'AWS_IAM',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: Match.anyValue() }]] },
      });
    }
  });

  it('sends unknown paths and methods to the handler through $default, still IAM-authorized', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: '$default',
      AuthorizationType: 'AWS_IAM',
    });
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    // The contract's routes, the listing (`GET /locks`) and `$default`.
    expect(routes).toHaveLength(CONTRACT_ROUTE_KEYS.length + 2);
    for (const route of routes) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('lets only API Gateway invoke the API function', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('ApiFunction'), 'Arn'] },
      SourceArn: Match.anyValue(),
    });
  });

  it('throttles a named stage (100/s, burst 200) and writes JSON access logs', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'prod',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(4); // three functions, API access logs
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('alarms on the HTTP API 5xx metric, with the other alarms unchanged', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: Match.stringLikeRegexp('HttpApi') } }],
    });
  });

  it('tells the API function which events it gets', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('HTTP API handler \\(API Gateway HTTP API v2 events\\)'),
    });
  });

  it('outputs the stage URL, ending in /prod/', () => {
    template.hasOutput('ApiUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith(['https://', '.execute-api.', '/prod/'])] },
    });
  });

  it('applies the stage name, throttling and log retention props', () => {
    const custom = synth({
      stageName: 'v1',
      throttlingRateLimit: 7,
      throttlingBurstLimit: 9,
      logRetention: logs.RetentionDays.ONE_WEEK,
    });
    custom.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'v1',
      DefaultRouteSettings: { ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 },
    });
    for (const group of Object.values(custom.findResources('AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(7);
    }
  });
});

describe('LockService properties and grants with apiType HTTP', () => {
  function consumer() {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'Consumer');
    const locks = new LockService(stack, 'Locks', HTTP);
    const role = new iam.Role(stack, 'Worker', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    return { stack, locks, role };
  }

  it('exposes the HTTP API as `api` and its kind as `apiType`', () => {
    const { locks } = consumer();
    expect(locks.apiType).toBe(LockApiType.HTTP);
    expect(locks.api).toBeInstanceOf(apigwv2.HttpApi);
  });

  it('grantInvokeApi grants execute-api:Invoke on the chosen routes of the HTTP API stage', () => {
    const { stack, locks, role } = consumer();
    locks.grantInvokeApi(role, LockOperation.ACQUIRE, LockOperation.GET);
    const template = Template.fromStack(stack);
    const apiId = Object.keys(template.findResources('AWS::ApiGatewayV2::Api'))[0]!;
    const arn = (tail: string) => ({
      'Fn::Join': [
        '',
        Match.arrayWith([{ Ref: apiId }, Match.stringLikeRegexp(`^/prod/${tail}$`)]),
      ],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'execute-api:Invoke',
            Resource: [arn('POST/locks/\\*/acquire'), arn('GET/locks/\\*')],
          },
        ],
      },
      Roles: [{ Ref: Match.stringLikeRegexp('Worker') }],
    });
  });
});
