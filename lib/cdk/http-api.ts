// The HTTP API (API Gateway v2) option of LockService: the contract's routes and a `$default`
// route to the API function, IAM-authorized, on a throttled stage with JSON access logs.
import { type Duration, Names, type RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ROUTES } from '../contract/http.js';
import { LIST } from '../contract/list.js';

/**
 * What {@link createLockHttpApi} needs from the lock service (its props, resolved to values).
 *
 * @example
 * const options: LockHttpApiOptions = { handler, stageName: 'prod', throttlingRateLimit: 100, throttlingBurstLimit: 200, integrationTimeout: Duration.seconds(29), logRetention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.RETAIN };
 */
export interface LockHttpApiOptions {
  /** The API function (it reads payload format 2.0 events). */
  readonly handler: lambda.IFunction;
  readonly stageName: string;
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
  /** How long API Gateway waits for the function before it answers 503. */
  readonly integrationTimeout: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The HTTP API and the stage the lock service is served on. */
export interface LockHttpApi {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
}

/**
 * The access log line: JSON with the request id, as the REST stage's. HTTP APIs have their own
 * `$context` variables (no `resourcePath`; `routeKey` instead).
 */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  caller: '$context.identity.caller',
  user: '$context.identity.user',
  userArn: '$context.identity.userArn',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  integrationError: '$context.integrationErrorMessage',
};

/**
 * Builds the HTTP API in `scope` (construct ids `HttpApi`, `HttpApiStage`, `ApiAccessLogs`):
 * one route per method of each contract route, derived from `ROUTES`, and a `$default` route so
 * that unknown paths and methods reach the handler's JSON 404/405 instead of API Gateway's own
 * 404. Every route, `$default` included, requires IAM (SigV4) authorization.
 *
 * @example
 * const { api, stage } = createLockHttpApi(this, {
 *   handler: apiFunction, stageName: 'prod', throttlingRateLimit: 100, throttlingBurstLimit: 200,
 *   integrationTimeout: Duration.seconds(29), logRetention: logs.RetentionDays.ONE_MONTH,
 *   removalPolicy: RemovalPolicy.RETAIN,
 * });
 */
export function createLockHttpApi(scope: Construct, options: LockHttpApiOptions): LockHttpApi {
  const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogs', {
    retention: options.logRetention,
    removalPolicy: options.removalPolicy,
  });
  // One integration for every route: API Gateway invokes the one function with v2 events.
  const integration = new HttpLambdaIntegration('ApiIntegration', options.handler, {
    payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    timeout: options.integrationTimeout,
  });
  const api = new apigwv2.HttpApi(scope, 'HttpApi', {
    // Unique per construct, like the REST API's name.
    apiName: Names.uniqueResourceName(scope, { maxLength: 128 }),
    description: 'Fenced lock service (IAM-authorized)',
    // A named stage, so the URL ends in /<stageName>/ as the REST API's does.
    createDefaultStage: false,
    defaultAuthorizer: new HttpIamAuthorizer(),
    defaultIntegration: integration,
  });
  for (const [path, methods] of Object.entries(ROUTES)) {
    api.addRoutes({
      path,
      methods: Object.keys(methods).map((method) => method as apigwv2.HttpMethod),
      integration,
    });
  }
  api.addRoutes({
    path: LIST.path,
    methods: [LIST.method as apigwv2.HttpMethod],
    integration,
  });
  const stage = new apigwv2.HttpStage(scope, 'HttpApiStage', {
    httpApi: api,
    stageName: options.stageName,
    autoDeploy: true,
    throttle: {
      rateLimit: options.throttlingRateLimit,
      burstLimit: options.throttlingBurstLimit,
    },
    accessLogSettings: {
      destination: new apigwv2.LogGroupLogDestination(accessLogs),
      format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
    },
  });
  return { api, stage };
}
