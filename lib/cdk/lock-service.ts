import { createHash } from 'node:crypto';
import { FUNCTION_VARIABLES } from '../contract/function-variables.js';
import { Duration, Lazy, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LockApiType } from './api-type.js';
import { createLockHttpApi } from './http-api.js';
import { createLockDashboard, type LockDashboardProps } from './lock-dashboard.js';
import { createLockFunction, type LockFunctionOptions } from './lock-function.js';
import { leadingKeysCondition, parseLockScope, type LockScope } from './lock-scope.js';
import { API_GATEWAY_TIMEOUT_MS, MAX_HTTP_WAIT_CEILING_MS, ROUTES } from '../contract/http.js';
import { METRIC_NAMES, type MetricName } from '../contract/metric-names.js';
import { LIST } from '../contract/list.js';
import { DIRECT_CALLERS } from '../contract/execution-events.js';
import {
  OPERATIONS,
  OPERATOR_OPERATIONS,
  type OperationName,
  WORKER_OPERATIONS,
} from '../contract/operations.js';
import { ValidationError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { LOCK_TABLE_SCHEMA } from '../core/table-schema.js';
import { parseInteger } from '../core/validation.js';

/**
 * API Gateway's integration timeout: a request that takes longer gets a 504, so the API
 * function never needs more and an HTTP `waitMs` must stay well below it.
 */
const API_GATEWAY_TIMEOUT = Duration.millis(API_GATEWAY_TIMEOUT_MS);

/** Stage defaults shared by both API kinds. */
const API_STAGE_DEFAULTS = { stageName: 'prod', rateLimit: 100, burstLimit: 200 } as const;

/**
 * An operation of the lock API, for narrowing {@link LockService.grantInvokeApi}.
 *
 * @example
 * service.grantInvokeApi(workerRole, LockOperation.ACQUIRE, LockOperation.RENEW, LockOperation.RELEASE);
 */
export enum LockOperation {
  /** `POST /locks/{lockId}/acquire` */
  ACQUIRE = 'acquire',
  /** `POST /locks/{lockId}/renew` */
  RENEW = 'renew',
  /** `POST /locks/{lockId}/release` */
  RELEASE = 'release',
  /** `GET /locks/{lockId}` */
  GET = 'get',
  /** `DELETE /locks/{lockId}` (operator force release: evicts any holder; see {@link LockService.grantOperator}) */
  FORCE_RELEASE = 'forceRelease',
}

// Every operation of the contract has its member here, and nothing else does.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const LOCK_OPERATION_IS_THE_CONTRACT: Same<`${LockOperation}`, OperationName> = true;
void LOCK_OPERATION_IS_THE_CONTRACT;

/** The execute-api resource path of an operation's route: the lock id as `*`. */
const arnPathOf = (operation: OperationName) => OPERATIONS[operation].path.replace('{lockId}', '*');

/** The only DynamoDB actions the lock core performs: every operation is one UpdateItem or one GetItem. */
const TABLE_ACTIONS = ['dynamodb:UpdateItem', 'dynamodb:GetItem'] as const;

/** What listing the locks needs on the table (a Scan; see `lib/core/lock-list.ts`). */
const LIST_ACTIONS = ['dynamodb:Scan'] as const;

/** What DynamoDB needs from a caller's principal to use a customer managed table key. */
const KEY_ACTIONS = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:DescribeKey',
] as const;

/**
 * Properties of a {@link LockService}. Every property is optional.
 *
 * @example
 * const props: LockServiceProps = { removalPolicy: RemovalPolicy.DESTROY, throttlingRateLimit: 50 };
 */
export interface LockServiceProps {
  /**
   * Name of the DynamoDB table.
   *
   * @default - CloudFormation generates a unique name (read it from `table.tableName`)
   */
  readonly tableName?: string;

  /**
   * What happens to the table and the log groups when they leave the stack or the stack is
   * deleted. Only `RETAIN` and `DESTROY` are meaningful here.
   *
   * @default RemovalPolicy.RETAIN - the lock table (and with it every lock's fencing counter) and the logs outlive the stack
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Whether DynamoDB refuses to delete the table until this is turned off.
   *
   * @default - true unless `removalPolicy` is `DESTROY`
   */
  readonly deletionProtection?: boolean;

  /**
   * A customer managed KMS key to encrypt the table with. The functions (and principals given
   * {@link LockService.grantTableAccess}) are granted `kms:Decrypt`, `kms:Encrypt`,
   * `kms:GenerateDataKey` and `kms:DescribeKey` on it.
   *
   * @default - the table is encrypted with the AWS managed key `alias/aws/dynamodb`
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Lambda runtime of both functions. The bundle targets Node.js 22 syntax, so use 22 or newer.
   *
   * @default lambda.Runtime.NODEJS_22_X
   */
  readonly runtime?: lambda.Runtime;

  /**
   * Memory of each function in MiB (Lambda gives CPU in proportion).
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * Timeout of the direct-invocation function. An acquire with `waitMs` can wait only as long
   * as this allows.
   *
   * @default Duration.minutes(1)
   */
  readonly directFunctionTimeout?: Duration;

  /**
   * Lease given when a request names no `leaseMs` (sets `DEFAULT_LEASE_MS`), in ms.
   *
   * @default - the handlers' default, 30 000 ms (`LIMITS.leaseMsDefault`)
   */
  readonly defaultLeaseMs?: number;

  /**
   * How long DynamoDB keeps the item of an unused lock after its last lease ends, before TTL
   * may delete it (sets `RETENTION_MS`), in ms. Tokens stay monotonic across that deletion
   * only while writers' clocks agree to within this, so it must be at least one hour.
   *
   * @default - 3 600 000 ms (one hour), the handlers' default
   */
  readonly retentionMs?: number;

  /**
   * The longest `waitMs` the HTTP API accepts (sets `MAX_HTTP_WAIT_MS`), in ms. Must stay
   * below API Gateway's 29 s integration timeout.
   *
   * @default - 25 000 ms, the API handler's default cap
   */
  readonly maxHttpWaitMs?: number;

  /**
   * Service name in logs, traces and metric dimensions (`POWERTOOLS_SERVICE_NAME`).
   *
   * @default 'fenced-lock'
   */
  readonly serviceName?: string;

  /**
   * CloudWatch namespace of the handlers' EMF metrics (`POWERTOOLS_METRICS_NAMESPACE`).
   *
   * @default 'FencedLock'
   */
  readonly metricsNamespace?: string;

  /**
   * Retention of the functions' log groups and the API access log group.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Which kind of API Gateway API fronts the API function: a REST API or an HTTP API (v2), with
   * the same routes, bodies, status codes and IAM authorization. The HTTP API costs less per
   * request; the REST API traces the stage with X-Ray, checks bodies at the edge and carries any
   * lock id (see docs/http-api-v2.md).
   *
   * @default LockApiType.REST
   */
  readonly apiType?: LockApiType;

  /**
   * Name of the API stage (the last segment of the base URL).
   *
   * @default 'prod'
   */
  readonly stageName?: string;

  /**
   * Steady-state request rate limit of the API stage, in requests per second.
   *
   * @default 100
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst limit of the API stage, in requests.
   *
   * @default 200
   */
  readonly throttlingBurstLimit?: number;

  /**
   * Whether to create the role a REST API needs to write access and execution logs to
   * CloudWatch, and set it on the account (an HTTP API needs none). The setting is per account
   * and region: leave this on in one stack only, and turn it off where the account already has
   * a role.
   *
   * @default true
   */
  readonly cloudWatchRole?: boolean;
}

/**
 * The lock service: a DynamoDB lock table, the Lambda handlers over the lock core, and a REST
 * API (or, with `apiType: LockApiType.HTTP`, an HTTP API) with IAM (SigV4) authorization on
 * every route, with alarms for handler errors, API 5XX and DynamoDB throttles and system errors.
 *
 * Two ways in:
 * - the HTTP API (`url`): `POST /locks/{lockId}/acquire|renew|release`, `GET /locks/{lockId}`,
 *   `DELETE /locks/{lockId}`; give callers {@link grantInvokeApi} (operators {@link grantOperator});
 * - the direct-invocation function (`directFunction`), for Step Functions and Lambdas calling
 *   `Lambda.invoke` with `{ action, lockId, ... }`; give callers {@link grantInvokeFunctions}.
 *
 * Force release evicts any holder: it is an operator's action, given by {@link grantOperator}
 * (its API route and `operatorFunction`); worker grants leave it out.
 *
 * The construct acknowledges the cdk-nag AwsSolutions findings that are deliberate parts of
 * this design, each with its reason (see `acknowledgeNagFindings`).
 *
 * @example
 * const locks = new LockService(this, 'Locks', { removalPolicy: RemovalPolicy.RETAIN });
 * locks.grantInvokeFunctions(myWorkerFunction);
 * myWorkerFunction.addEnvironment('LOCK_FUNCTION_NAME', locks.directFunction.functionName);
 */
export class LockService extends Construct {
  /** The lock table: partition key `lockId`, TTL on `ttl`, on-demand, PITR, encrypted. */
  public readonly table: dynamodb.Table;
  /** The function behind every API route (API Gateway proxy events). */
  public readonly apiFunction: lambda.Function;
  /**
   * The function for direct invocation (`{ action, lockId, ... }`) by Step Functions and
   * Lambdas: the workers' operations (acquire, renew, release, get) and the listing. It refuses
   * `forceRelease` with `AccessDenied`; operators invoke {@link operatorFunction}.
   */
  public readonly directFunction: lambda.Function;
  /**
   * The operators' direct-invocation function: the same handler running every action,
   * `forceRelease` included. Give it with {@link grantOperator}.
   */
  public readonly operatorFunction: lambda.Function;
  /** Which kind of API Gateway API fronts `apiFunction`. */
  public readonly apiType: LockApiType;
  /**
   * The API in front of `apiFunction`: an `apigateway.RestApi` when `apiType` is REST (the
   * default), an `apigatewayv2.HttpApi` when it is HTTP. `url`, {@link grantInvokeApi} and the
   * API 5XX alarm work for either; narrow with `instanceof` for kind-specific settings.
   */
  public readonly api: apigateway.RestApi | apigwv2.HttpApi;
  /** Base URL of the API stage, ending in `/` (e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod/`). */
  public readonly url: string;
  /**
   * The alarms (API handler errors, handler faults, API 5XX, DynamoDB throttles and system errors).
   * They have no actions: add yours, e.g. `alarm.addAlarmAction(new SnsAction(topic))`.
   */
  public readonly alarms: cloudwatch.Alarm[];

  /** `service` dimension of the handlers' metrics. */
  public readonly serviceName: string;
  /** CloudWatch namespace of the handlers' metrics. */
  public readonly metricsNamespace: string;

  private readonly encryptionKey?: kms.IKey;
  /** The scopes' own direct functions, by their prefixes (see {@link scopedFunction}). */
  private readonly scopedFunctions = new Map<string, lambda.Function>();
  /** The sections' direct functions, by their prefixes or `*` (see {@link sectionFunction}). */
  private readonly sectionFunctions = new Map<string, lambda.Function>();
  /** What the direct functions are built with, for the scopes' own. */
  private readonly directOptions: LockFunctionOptions;
  /** The API callers limited to lock id prefixes, passed to the API function (LOCK_API_SCOPES). */
  private readonly apiScopes: {
    principal: string;
    prefixes: string[];
    operations: OperationName[];
  }[] = [];
  /** The operators' role or user ARNs, passed to the API function (LOCK_API_OPERATORS). */
  private readonly apiOperators: string[] = [];
  /** The stage the API is served on (its name, a token for the REST API, scopes grants). */
  private readonly apiStage: { readonly stageName: string };

  constructor(scope: Construct, id: string, props: LockServiceProps = {}) {
    super(scope, id);
    validateProps(props);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.encryptionKey = props.encryptionKey;
    this.serviceName = props.serviceName ?? 'fenced-lock';
    this.apiType = props.apiType ?? LockApiType.REST;
    this.metricsNamespace = props.metricsNamespace ?? 'FencedLock';

    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: LOCK_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: LOCK_TABLE_SCHEMA.ttlAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: props.encryptionKey
        ? dynamodb.TableEncryption.CUSTOMER_MANAGED
        : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: props.encryptionKey,
      deletionProtection: props.deletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY,
      removalPolicy,
    });

    const commonEnv: Record<string, string> = {
      LOCK_TABLE_NAME: this.table.tableName,
      POWERTOOLS_SERVICE_NAME: this.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
      ...optionalEnv('DEFAULT_LEASE_MS', props.defaultLeaseMs),
      ...optionalEnv('RETENTION_MS', props.retentionMs),
    };
    const functionOptions = {
      runtime: props.runtime ?? lambda.Runtime.NODEJS_22_X,
      memorySize: props.memorySize ?? 256,
      logRetention,
      removalPolicy,
    };

    this.apiFunction = this.createFunction('ApiFunction', {
      ...functionOptions,
      asset: 'api',
      description: `Lock service: HTTP API handler (API Gateway ${
        this.apiType === LockApiType.HTTP ? 'HTTP API v2' : 'REST proxy'
      } events)`,
      timeout: API_GATEWAY_TIMEOUT,
      environment: { ...commonEnv, ...optionalEnv('MAX_HTTP_WAIT_MS', props.maxHttpWaitMs) },
    });
    // Lambda cannot narrow an invoke permission by the event's action, so the operator's
    // action has its own function: the workers' one refuses it (LOCK_ACTIONS).
    this.directOptions = {
      ...functionOptions,
      asset: 'direct',
      description: 'Lock service: direct invocation { action, lockId, ... }',
      timeout: props.directFunctionTimeout ?? Duration.minutes(1),
      environment: {
        ...commonEnv,
        [FUNCTION_VARIABLES.actions]: WORKER_OPERATIONS.join(','),
        [FUNCTION_VARIABLES.callers]: DIRECT_CALLERS.workers,
      },
    };
    this.directFunction = this.createFunction('DirectFunction', this.directOptions);
    this.operatorFunction = this.createFunction('OperatorFunction', {
      ...functionOptions,
      asset: 'direct',
      description: 'Lock service: operator direct invocation (every action, forceRelease included)',
      timeout: props.directFunctionTimeout ?? Duration.minutes(1),
      environment: commonEnv,
    });

    if (this.apiType === LockApiType.HTTP) {
      const { api, stage } = createLockHttpApi(this, {
        handler: this.apiFunction,
        stageName: props.stageName ?? API_STAGE_DEFAULTS.stageName,
        throttlingRateLimit: props.throttlingRateLimit ?? API_STAGE_DEFAULTS.rateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit ?? API_STAGE_DEFAULTS.burstLimit,
        integrationTimeout: API_GATEWAY_TIMEOUT,
        logRetention,
        removalPolicy,
      });
      this.api = api;
      this.apiStage = stage;
      // The stage's URL has no trailing slash; the REST API's (and this property's) has.
      this.url = `${stage.url}/`;
    } else {
      const api = this.createApi(props, logRetention, removalPolicy);
      this.api = api;
      this.apiStage = api.deploymentStage;
      this.url = api.url;
    }
    this.alarms = this.createAlarms();
    this.acknowledgeNagFindings();
  }

  /**
   * Lets `grantee` call the HTTP API: `execute-api:Invoke` on the routes of the given
   * operations of this API's stage. With none given, the workers' routes: acquire, renew,
   * release, get and the listing `GET /locks`, but not the operator's force release
   * (`DELETE /locks/{lockId}`), which {@link grantOperator} gives. Nothing else.
   *
   * @param grantee the principal to grant
   * @param operations the operations to allow; default the workers' four and the listing.
   *   Naming `LockOperation.FORCE_RELEASE` here grants its route too (an operator grant by choice).
   *
   * @example
   * locks.grantInvokeApi(clientRole); // the workers' routes
   * locks.grantInvokeApi(readerRole, LockOperation.GET); // only GET /locks/{lockId}
   */
  public grantInvokeApi(grantee: iam.IGrantable, ...operations: LockOperation[]): iam.Grant {
    const chosen = operations.length > 0 ? operations : WORKER_OPERATIONS;
    const resourceArns = this.routeArns(chosen);
    // The workers' default includes the listing of locks (`GET /locks`).
    if (operations.length === 0) {
      resourceArns.push(this.api.arnForExecuteApi(LIST.method, LIST.path, this.apiStage.stageName));
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns,
    });
  }

  /**
   * Lets `grantee` call the HTTP API on lock ids that start with one of `scope.prefixes` only:
   * {@link grantInvokeApi} with the same operations (default the workers'), and the API
   * function told (environment variable `LOCK_API_SCOPES`) to answer this principal's requests
   * on other ids `403 AccessDenied`, and its listings only with a `prefix` in scope. The caller
   * is recognized by the IAM ARN API Gateway puts in the event (a session of the role counts
   * as the role). `grantee` must be an IAM role or user (a Lambda function's role counts).
   * IAM alone cannot do this: an `execute-api` ARN is not relied on to match an encoded lock id.
   * The handler also refuses this principal the operations the grant does not name (a force
   * release, unless `LockOperation.FORCE_RELEASE` is named), whatever other IAM policy it has.
   *
   * @example
   * locks.grantInvokeApiScoped(teamARole, { prefixes: ['team-a/'] });
   */
  public grantInvokeApiScoped(
    grantee: iam.IGrantable,
    scope: LockScope,
    ...operations: LockOperation[]
  ): iam.Grant {
    const prefixes = parseLockScope(scope);
    const arn = principalArn(grantee);
    if (arn === undefined) {
      throw new ValidationError('grantee', 'a scoped API grant needs an IAM role or user');
    }
    const chosen = operations.length > 0 ? operations : WORKER_OPERATIONS;
    this.addToApiList(FUNCTION_VARIABLES.apiScopes, this.apiScopes, {
      principal: arn,
      prefixes,
      operations: [...new Set(chosen)],
    });
    return this.grantInvokeApi(grantee, ...operations);
  }

  /**
   * Lets `grantee` invoke the workers' direct-invocation function: `lambda:InvokeFunction` on
   * `directFunction` (its unqualified ARN). Nothing else. That function runs acquire, renew,
   * release, get and the listing, and refuses `forceRelease` with `AccessDenied`. The API
   * function is not included: only API Gateway invokes it.
   *
   * For a Step Functions `LambdaInvoke` task on `directFunction` the task grants this itself.
   *
   * @param scope when given, the scope's own function ({@link scopedFunction}) instead: only
   *   lock ids starting with its prefixes
   *
   * @example
   * locks.grantInvokeFunctions(workerFunction); // all locks
   * locks.grantInvokeFunctions(teamAFunction, { prefixes: ['team-a:'] });
   */
  public grantInvokeFunctions(grantee: iam.IGrantable, scope?: LockScope): iam.Grant {
    const fn = scope ? this.scopedFunction(scope) : this.directFunction;
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [fn.functionArn],
    });
  }

  /**
   * The direct-invocation function of one scope: the workers' function (acquire, renew,
   * release, get, the listing; no `forceRelease`) serving only lock ids that start with
   * `scope.prefixes` (environment variable `LOCK_PREFIXES`), refusing others, and listings
   * without a `prefix` in scope, with `AccessDenied`. A direct invocation carries no caller
   * identity, so a scope is a function: created on first use, the same one for the same
   * prefixes. Use it as a `LockedSection`'s `lockFunction` to keep a state machine in its
   * scope (the execution cleanup still frees what the section registered).
   *
   * @example
   * const teamALocks = locks.scopedFunction({ prefixes: ['team-a:'] });
   */
  public scopedFunction(scope: LockScope): lambda.Function {
    const prefixes = parseLockScope(scope).sort();
    const key = JSON.stringify(prefixes);
    const existing = this.scopedFunctions.get(key);
    if (existing) return existing;
    const fn = this.createFunction(`ScopedFunction${scopeDigest(key)}`, {
      ...this.directOptions,
      description: `Lock service: direct invocation scoped to ${prefixes.join(' ')}`.slice(0, 256),
      environment: { ...this.directOptions.environment, [FUNCTION_VARIABLES.prefixes]: key },
    });
    this.scopedFunctions.set(key, fn);
    return fn;
  }

  /**
   * The direct-invocation function of `LockedSection`s (of one scope, or of all locks): the
   * workers' operations, acting only as Step Functions executions (a section's owner is its
   * execution's run) and accepting `trackOwner`, which registers the execution for the cleanup.
   * The workers' functions refuse both, so a worker grant can neither act for a section nor
   * fill an execution's registry; give this function only to sections' state machines (a
   * `LockedSection` grants its own). A section given `directFunction` or a
   * {@link scopedFunction} as `lockFunction` invokes this one of the same scope instead.
   * Created on first use, the same one for the same prefixes.
   *
   * @example
   * new LockedSection(this, 'Nightly', { lockFunction: locks.sectionFunction({ prefixes: ['team-a:'] }), lockId: 'team-a:nightly' });
   */
  public sectionFunction(scope?: LockScope): lambda.Function {
    const prefixes = scope ? parseLockScope(scope).sort() : undefined;
    const key = prefixes ? JSON.stringify(prefixes) : '*';
    const existing = this.sectionFunctions.get(key);
    if (existing) return existing;
    const fn = this.createFunction(`SectionFunction${prefixes ? scopeDigest(key) : ''}`, {
      ...this.directOptions,
      description: `Lock service: direct invocation by LockedSection state machines${
        prefixes ? `, scoped to ${prefixes.join(' ')}` : ''
      }`.slice(0, 256),
      environment: {
        ...this.directOptions.environment,
        [FUNCTION_VARIABLES.callers]: DIRECT_CALLERS.sections,
        ...(prefixes ? { [FUNCTION_VARIABLES.prefixes]: key } : {}),
      },
    });
    this.sectionFunctions.set(key, fn);
    return fn;
  }

  /**
   * The section function serving the same locks as `fn` (`directFunction`, a
   * {@link scopedFunction}, or a section function itself), or undefined for another function.
   */
  public sectionFunctionFor(fn: lambda.IFunction): lambda.Function | undefined {
    if (fn === this.directFunction) return this.sectionFunction();
    if ([...this.sectionFunctions.values()].includes(fn as lambda.Function)) {
      return fn as lambda.Function;
    }
    for (const [key, scoped] of this.scopedFunctions) {
      if (scoped === fn) return this.sectionFunction({ prefixes: JSON.parse(key) as string[] });
    }
    return undefined;
  }

  /**
   * Every function that runs the direct handler: the workers', the operators', the scopes' and
   * the sections'.
   */
  public lockFunctions(): lambda.Function[] {
    return [
      this.directFunction,
      this.operatorFunction,
      ...this.scopedFunctions.values(),
      ...this.sectionFunctions.values(),
    ];
  }

  /**
   * Lets `grantee` act as an operator: force release (which evicts any holder) on every way in
   * that has it, `execute-api:Invoke` on `DELETE /locks/{lockId}` and `lambda:InvokeFunction` on
   * `operatorFunction` (which runs every action). Give workers {@link grantInvokeApi} or
   * {@link grantInvokeFunctions} instead. On the table, a force release is an `UpdateItem` like
   * a release, so {@link grantTableAccess} cannot keep it from anyone it grants. A role or user
   * given this is also named to the API function (`LOCK_API_OPERATORS`), so a scoped API grant
   * it may also have does not narrow it.
   *
   * @example
   * locks.grantOperator(onCallRole);
   */
  public grantOperator(grantee: iam.IGrantable): iam.Grant {
    // The API function exempts operators from the scopes a role may also have been given.
    const arn = principalArn(grantee);
    if (arn !== undefined)
      this.addToApiList(FUNCTION_VARIABLES.apiOperators, this.apiOperators, arn);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: this.routeArns(OPERATOR_OPERATIONS),
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['lambda:InvokeFunction'],
        resourceArns: [this.operatorFunction.functionArn],
      }),
    );
  }

  /**
   * Adds `entry` to `list`, which the API function reads as the JSON of `variable`: the
   * variable is set on the first entry and rendered at synth, so later grants are in it too.
   */
  private addToApiList<T>(variable: string, list: T[], entry: T): void {
    if (list.length === 0) {
      this.apiFunction.addEnvironment(
        variable,
        Lazy.string({ produce: () => Stack.of(this).toJsonString(list) }),
      );
    }
    list.push(entry);
  }

  /** The execute-api ARNs of the operations' routes on this API's stage. */
  private routeArns(operations: readonly OperationName[]): string[] {
    return [...new Set(operations)].map((operation) => {
      const { method } = OPERATIONS[operation];
      return this.api.arnForExecuteApi(method, arnPathOf(operation), this.apiStage.stageName);
    });
  }

  /**
   * Lets `grantee` use the lock table directly through the lock core (the SDK's DynamoDB
   * transport): `dynamodb:UpdateItem` and `dynamodb:GetItem` on this table, plus
   * `kms:Decrypt`, `kms:Encrypt`, `kms:GenerateDataKey` and `kms:DescribeKey` on its key when
   * `encryptionKey` is set. Nothing else. The handlers get exactly this.
   *
   * Without `scope` it covers every lock id ("all locks", for a single-team deployment). With
   * `scope` the table actions carry the condition `ForAllValues:StringLike` on
   * `dynamodb:LeadingKeys` (`team-a/*` for the prefix `team-a/`): only items whose `lockId`
   * starts with a granted prefix. IAM cannot tell a release from a force release (both are
   * `UpdateItem` on the lock's item), so a table grant always allows force releasing the locks
   * in its scope; nor does a scoped grant cover the owner registry (`trackOwner`), whose items
   * are keyed outside every lock id.
   *
   * @param scope the lock id prefixes to allow; default every lock id
   *
   * @example
   * locks.grantTableAccess(batchJobRole); // all locks
   * locks.grantTableAccess(teamARole, { prefixes: ['team-a/'] }); // only ids starting team-a/
   */
  public grantTableAccess(grantee: iam.IGrantable, scope?: LockScope): iam.Grant {
    const conditions = scope ? leadingKeysCondition(parseLockScope(scope)) : undefined;
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: [...TABLE_ACTIONS],
      resourceArns: [this.table.tableArn],
      ...(conditions ? { conditions } : {}),
    });
    if (!this.encryptionKey) return grant;
    return grant.combine(this.encryptionKey.grant(grantee, ...KEY_ACTIONS));
  }

  /**
   * One of the handlers' metrics (namespace `metricsNamespace`, dimension `service`), by its
   * name in `METRIC_NAMES`. The `metricXxx()` methods below name each one.
   *
   * @default statistic Sum, period 5 minutes (Average for `Latency`)
   * @example new cloudwatch.Alarm(this, 'Lost', { metric: locks.metric(METRIC_NAMES.lostLeases), threshold: 1, evaluationPeriods: 1 });
   */
  public metric(metricName: MetricName, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      dimensionsMap: { service: this.serviceName },
      statistic: metricName === METRIC_NAMES.latency ? 'Average' : 'Sum',
      ...props,
    });
  }

  /** New grants, takeovers included. @example locks.metricGrants({ period: Duration.minutes(1) }) */
  public metricGrants(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.grants, props);
  }

  /** Grants that took over an expired lease. @example locks.metricTakeovers() */
  public metricTakeovers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.takeovers, props);
  }

  /** Acquires answered `LockHeld` (one per request). @example locks.metricRefusals() */
  public metricRefusals(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.refusals, props);
  }

  /** Retried acquires answered with the holder's existing grant. @example locks.metricRegrants() */
  public metricRegrants(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.regrants, props);
  }

  /** Successful renews. @example locks.metricRenewals() */
  public metricRenewals(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.renewals, props);
  }

  /** Renews refused with `LockLost`. @example locks.metricLostLeases() */
  public metricLostLeases(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.lostLeases, props);
  }

  /** Releases that ended a current grant. @example locks.metricReleases() */
  public metricReleases(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.releases, props);
  }

  /** Releases of a grant that was no longer current. @example locks.metricStaleReleases() */
  public metricStaleReleases(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.staleReleases, props);
  }

  /** Operator force releases that evicted a holder. @example locks.metricForceReleases() */
  public metricForceReleases(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.forceReleases, props);
  }

  /**
   * Unexpected faults (answered 500 or `InternalError`). The direct function's own Lambda
   * `Errors` metric also counts the refusals it throws by design, so alarm on this instead.
   *
   * @example locks.metricInternalErrors({ period: Duration.minutes(1) })
   */
  public metricInternalErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.internalErrors, props);
  }

  /** Time in the lock operation, in ms, any wait included. @example locks.metricLatency({ statistic: 'p99' }) */
  public metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.latency, props);
  }

  /** Acquires and other requests refused as invalid input (HTTP 400). @example locks.metricInvalidRequests() */
  public metricInvalidRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.invalidRequests, props);
  }

  /** Time in acquires that asked to wait, in ms. @example locks.metricWaitTime({ statistic: 'p99' }) */
  public metricWaitTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.waitTime, { statistic: 'Average', ...props });
  }

  /** Locks and permits freed by the execution cleanup. @example locks.metricOwnerReleases() */
  public metricOwnerReleases(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC_NAMES.ownerReleases, props);
  }

  /**
   * Adds a CloudWatch dashboard of the service, built from its own `metricXxx()` methods: its
   * alarms; grants and takeovers; refusals, held vs invalid; force releases and lost leases;
   * wait time; handler latency p50 and p99; each function's errors and throttles; the API's
   * requests, 4XX and 5XX; the table's throttles and system errors; the execution cleanup's
   * work. docs/operations.md says what each widget shows and what to do when it turns red.
   * The functions are those that exist when it is called (API, workers', operators', scopes'
   * and sections'): add it after the scoped grants and the `LockedSection`s.
   *
   * @example const dashboard = locks.addDashboard({ dashboardName: 'locks' });
   */
  public addDashboard(props?: LockDashboardProps): cloudwatch.Dashboard {
    return createLockDashboard(this, props);
  }

  /**
   * Lets `grantee` release everything an ended owner holds (`LockManager.releaseAllHeldBy`,
   * what the execution cleanup does): `dynamodb:UpdateItem` on this table, plus `kms:Decrypt`,
   * `kms:Encrypt`, `kms:GenerateDataKey` and `kms:DescribeKey` on its key when `encryptionKey`
   * is set. Nothing else: no reads, no deletes.
   *
   * @example
   * locks.grantReleaseAllHeld(cleanupFunction);
   */
  public grantReleaseAllHeld(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
    });
    if (!this.encryptionKey) return grant;
    return grant.combine(this.encryptionKey.grant(grantee, ...KEY_ACTIONS));
  }

  /**
   * Lets `grantee` list the locks (`LockManager.list` through the `dynamodb` transport, what
   * `lockctl ls --table` does): `dynamodb:Scan` on this table, plus `kms:Decrypt` and
   * `kms:DescribeKey` on its key when `encryptionKey` is set. A Scan reads every lock, its
   * holder and data: give it to operators. The service's functions have it for `GET /locks`.
   *
   * @example locks.grantListLocks(operatorRole);
   */
  public grantListLocks(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: [...LIST_ACTIONS],
      resourceArns: [this.table.tableArn],
    });
    if (!this.encryptionKey) return grant;
    return grant.combine(this.encryptionKey.grant(grantee, 'kms:Decrypt', 'kms:DescribeKey'));
  }

  private createFunction(id: string, options: LockFunctionOptions): lambda.Function {
    const fn = createLockFunction(this, id, options);
    // What grantTableAccess and grantListLocks give, in one statement each for table and key.
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: [...TABLE_ACTIONS, ...LIST_ACTIONS],
      resourceArns: [this.table.tableArn],
    });
    this.encryptionKey?.grant(fn, ...KEY_ACTIONS);
    return fn;
  }

  private createApi(
    props: LockServiceProps,
    logRetention: logs.RetentionDays,
    removalPolicy: RemovalPolicy,
  ): apigateway.RestApi {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logRetention,
      removalPolicy,
    });
    const cloudWatchRole = props.cloudWatchRole ?? true;
    const api = new apigateway.RestApi(this, 'Api', {
      // Unique per construct: the API 5XX alarm's metric is keyed by the API name.
      restApiName: Names.uniqueResourceName(this, { maxLength: 128 }),
      description: 'Fenced lock service (IAM-authorized)',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      cloudWatchRole,
      cloudWatchRoleRemovalPolicy: cloudWatchRole ? removalPolicy : undefined,
      deployOptions: {
        stageName: props.stageName ?? API_STAGE_DEFAULTS.stageName,
        throttlingRateLimit: props.throttlingRateLimit ?? API_STAGE_DEFAULTS.rateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit ?? API_STAGE_DEFAULTS.burstLimit,
        tracingEnabled: true,
        // Execution logs for errors only: INFO would log every request twice (access logs too).
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      // The console's test invoke bypasses IAM; one permission per method is enough.
      defaultIntegration: new apigateway.LambdaIntegration(this.apiFunction, {
        allowTestInvoke: false,
      }),
    });

    const validator = api.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // The gateway checks only that a body is a JSON object; the handler checks each field,
    // so a 400 names the field the same way in AWS and on a laptop (`npm start`).
    const bodyModel = api.addModel('LockRequestBody', {
      contentType: 'application/json',
      modelName: 'LockRequestBody',
      schema: {
        schema: apigateway.JsonSchemaVersion.DRAFT4,
        title: 'LockRequestBody',
        type: apigateway.JsonSchemaType.OBJECT,
      },
    });
    api.addGatewayResponse('BadRequestBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json':
          '{"error":"ValidationError","message":"the request body must be a JSON object","field":"body"}',
      },
    });
    // Gateway-made 5XX (integration failure or timeout) in the API's error shape; the message
    // is API Gateway's own text, which names no internals.
    api.addGatewayResponse('Default5xx', {
      type: apigateway.ResponseType.DEFAULT_5XX,
      templates: {
        'application/json': '{"error":"InternalError","message":$context.error.messageString}',
      },
    });

    const withLockId = {
      requestValidator: validator,
      requestParameters: { 'method.request.path.lockId': true },
    };
    for (const [path, methods] of Object.entries(ROUTES)) {
      const resource = api.root.resourceForPath(path);
      for (const [method, operation] of Object.entries(methods)) {
        const hasBody = Object.keys(OPERATIONS[operation].fields).length > 0;
        resource.addMethod(method, undefined, {
          ...withLockId,
          ...(hasBody ? { requestModels: { 'application/json': bodyModel } } : {}),
        });
      }
      // Other methods reach the handler, which answers 405 with a JSON error, as locally.
      resource.addMethod('ANY', undefined, withLockId);
    }
    const locks = api.root.resourceForPath(LIST.path);
    // The listing of locks: its query parameters are checked by the handler, by name.
    locks.addMethod(LIST.method, undefined, { requestValidator: validator });
    // Unknown paths reach the handler too (404 with a JSON error) instead of API Gateway's
    // 403 "Missing Authentication Token". Still IAM-authorized, like every method.
    api.root.addMethod('ANY', undefined, { requestValidator: validator });
    locks.addMethod('ANY', undefined, { requestValidator: validator });
    api.root.addProxy({
      anyMethod: true,
      defaultMethodOptions: {
        authorizationType: apigateway.AuthorizationType.IAM,
        requestValidator: validator,
      },
    });
    return api;
  }

  private createAlarms(): cloudwatch.Alarm[] {
    const period = Duration.minutes(1);
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) =>
      new cloudwatch.Alarm(this, id, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
    const operations = [dynamodb.Operation.UPDATE_ITEM, dynamodb.Operation.GET_ITEM];
    return [
      alarm(
        'ApiFunctionErrorsAlarm',
        this.apiFunction.metricErrors({ period, statistic: 'Sum' }),
        'The HTTP API handler failed (crash or timeout); refusals are HTTP answers and do not count.',
      ),
      alarm(
        'HandlerFaultsAlarm',
        this.metricInternalErrors({ period }),
        'A handler met an unexpected fault (answered 500 or InternalError).',
      ),
      alarm(
        'Api5xxAlarm',
        this.api.metricServerError({ period, statistic: 'Sum' }),
        'The lock API answered 5XX.',
      ),
      alarm(
        'TableThrottlesAlarm',
        this.table.metricThrottledRequestsForOperations({ operations, period }),
        'DynamoDB throttled lock table requests.',
      ),
      alarm(
        'TableSystemErrorsAlarm',
        this.table.metricSystemErrorsForOperations({ operations, period }),
        'DynamoDB answered lock table requests with system errors.',
      ),
    ];
  }

  /**
   * cdk-nag AwsSolutions findings that this design accepts, each scoped to the construct it
   * concerns and carrying its reason. Acknowledgements are construct metadata: without
   * cdk-nag they change nothing.
   */
  private acknowledgeNagFindings(): void {
    // The rest concern REST API resources only (an HTTP API stage has no WAF association, no
    // Cognito methods and needs no account role).
    if (!(this.api instanceof apigateway.RestApi)) return;
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The account-level role API Gateway needs to write access and execution logs; only ' +
          'apigateway.amazonaws.com can assume it, and the AWS managed policy is the one AWS ' +
          'documents for exactly this.',
      });
    }
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method requires SigV4-signed requests from IAM principals granted ' +
        'execute-api:Invoke, and the stage is throttled; a WAF web ACL would add cost without ' +
        'screening anything an anonymous caller can reach. Associate one outside the construct ' +
        'if your policy requires it.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'The callers are AWS principals (Lambdas, Step Functions, operators), so the API uses ' +
        'IAM (SigV4) authorization on every method instead of a Cognito user pool.',
    });
  }
}

/** Fails synth early, naming the prop, rather than deploying a service that refuses to start. */
function validateProps(props: LockServiceProps): void {
  const integer = (name: string, value: number | undefined, min: number, max: number) => {
    if (value === undefined) return;
    try {
      parseInteger(name, value, min, max);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      throw new Error(`LockService: ${err.message}`, { cause: err });
    }
  };
  integer('defaultLeaseMs', props.defaultLeaseMs, LIMITS.leaseMsMin, LIMITS.leaseMsMax);
  integer('retentionMs', props.retentionMs, LIMITS.retentionMsDefault, LIMITS.retentionMsMax);
  integer('maxHttpWaitMs', props.maxHttpWaitMs, 0, MAX_HTTP_WAIT_CEILING_MS);
  integer('throttlingRateLimit', props.throttlingRateLimit, 1, 10_000);
  integer('throttlingBurstLimit', props.throttlingBurstLimit, 1, 5_000);
  integer('memorySize', props.memorySize, 128, 10_240);
}

function optionalEnv(name: string, value: number | undefined): Record<string, string> {
  return value === undefined ? {} : { [name]: String(value) };
}

/**
 * A scope's part of its functions' construct ids: from its prefixes, not from the order the
 * scopes were made in, so adding or reordering scopes and sections renames (and so replaces) no
 * function.
 */
function scopeDigest(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8).toUpperCase();
}

/** The ARN of `grantee` when it is an IAM role or user (what API Gateway reports), else undefined. */
function principalArn(grantee: iam.IGrantable): string | undefined {
  const principal = grantee.grantPrincipal as Partial<iam.IRole & iam.IUser>;
  return principal.roleArn ?? principal.userArn;
}
