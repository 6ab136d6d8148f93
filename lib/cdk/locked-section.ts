import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { INTERNAL_ERROR, type OutcomeName } from '../contract/error-codec.js';
import { SECTION_OWNER_FORMAT } from '../contract/execution-events.js';
import { GRANT_FIELDS, type InputOf, type OperationName } from '../contract/operations.js';
import { parsePermits } from '../core/validation.js';
import { ExecutionCleanup } from './execution-cleanup.js';
import { LockService } from './lock-service.js';

const LOCK_HELD: OutcomeName = 'LockHeld';
const LOCK_LOST: OutcomeName = 'LockLost';

/**
 * Transient failures of invoking the lock function, retried by every lock state: AWS's
 * recommended set for a Lambda task (CDK's own default for `LambdaInvoke`), and the lock
 * function's own unexpected fault (a DynamoDB that did not answer, ...).
 */
export const TRANSIENT_FUNCTION_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  INTERNAL_ERROR,
];

/** How every lock state retries them: about 15 s in all, jittered so throttled callers spread. */
const TRANSIENT_RETRY: sfn.RetryProps = {
  errors: TRANSIENT_FUNCTION_ERRORS,
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxAttempts: 4,
  maxDelay: Duration.seconds(8),
  jitterStrategy: sfn.JitterType.FULL,
};

/**
 * The error with which the section's first state sends the execution back to the acquire: the
 * grant in the state is not this run's current grant (a redriven execution restarted inside).
 */
export const GRANT_NOT_CURRENT = 'LockedSection.GrantNotCurrent';

/** What the section's states send besides the action, the lock id and the owner. */
type SectionFields<O extends OperationName> = {
  [K in Exclude<keyof InputOf<O>, 'owner'>]?: unknown;
};

export interface LockedSectionProps {
  /**
   * The lock service's direct-invocation function: `LockService.directFunction` (all locks),
   * a `scopedFunction(scope)` (a scope's locks) or a `sectionFunction(scope?)`. The section
   * invokes the service's section function of the same scope (`LockService.sectionFunction`),
   * the one that acts for executions: the workers' functions refuse them. A function of a
   * service in another app must be that service's section function.
   */
  readonly lockFunction: lambda.IFunction;
  /** The lock's id: a literal, or a path into the state input such as `JsonPath.stringAt('$.orderId')`. */
  readonly lockId: string;
  /**
   * Where the grant `{ lockId, owner, token, expiresAt, leaseMs }` is put in the state, so the
   * section's states can pass `token` to the resources they write.
   * @default '$.lock'
   */
  readonly grantPath?: string;
  /** Lease of the grant; renew with `renewStep` between steps that may outlast it. @default Duration.minutes(5) */
  readonly lease?: Duration;
  /** How long to keep retrying while someone else holds the lock before failing. @default Duration.minutes(10) */
  readonly maxWait?: Duration;
  /** First retry delay while the lock is held. @default Duration.seconds(2) */
  readonly retryInterval?: Duration;
  /** Growth of the retry delay. @default 1.5 */
  readonly backoffRate?: number;
  /** Longest retry delay. @default Duration.seconds(30) */
  readonly maxRetryDelay?: Duration;
  /**
   * Makes the section concurrency-limited instead of exclusive: up to this many executions
   * inside at once (1 to 1,000), each with its own permit of the semaphore `lockId`, its own
   * lease and token. The grant at `grantPath` then also carries `permits`.
   * @default none: one execution at a time (a lock)
   */
  readonly permits?: number;
  /**
   * Frees the lock (or permit) the moment an execution is aborted, times out or fails without
   * running the section's own release: each acquire also registers the execution as owner (one
   * more DynamoDB write per attempt), and an EventBridge rule on the stack's state machines
   * that invoke the lock service starts a cleanup function (see `ExecutionCleanup`). Needs
   * `lockFunction` to be a function of a `LockService` in this app (its `directFunction`, a
   * `scopedFunction` or a `sectionFunction`); the lease remains the backstop.
   * @default true when `lockFunction` belongs to a LockService
   */
  readonly cleanup?: boolean;
}

/**
 * Wraps a chain of states in a locked section: acquire (owner = the run of the execution, its id
 * and redrive count, so a retried acquire of the same run gets its own grant back; `Retry` on
 * `LockHeld` up to `maxWait`, then a `LockNotAcquired` failure), the states with the grant at
 * `grantPath` after a renew that confirms it is still this run's, then release. Any error in the
 * section releases the lock and then fails the execution with that same error.
 *
 * @example
 * const section = new LockedSection(this, 'Nightly', {
 *   lockFunction: service.directFunction, lockId: 'nightly-report',
 * });
 * const definition = section.wrap(build.next(section.renewStep('Renew')).next(publish));
 * new sfn.StateMachine(this, 'Report', { definitionBody: sfn.DefinitionBody.fromChainable(definition) });
 */
export class LockedSection extends Construct {
  /** Where the grant sits in the state. */
  readonly grantPath: string;
  private readonly props: LockedSectionProps;
  private readonly leaseMs: number;
  private readonly permits?: number;
  private readonly trackOwner: boolean;
  /** What the section's states invoke: the section function for `props.lockFunction`. */
  private readonly lockFunction: lambda.IFunction;
  private wrapped = false;

  constructor(scope: Construct, id: string, props: LockedSectionProps) {
    super(scope, id);
    this.props = props;
    this.grantPath = props.grantPath ?? '$.lock';
    if (!/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(this.grantPath)) {
      throw new Error(`grantPath must be a simple path like "$.lock", got "${this.grantPath}"`);
    }
    this.leaseMs = (props.lease ?? Duration.minutes(5)).toMilliseconds();
    this.permits = props.permits === undefined ? undefined : parsePermits(props.permits);
    const service = props.lockFunction.node.scope;
    this.lockFunction =
      service instanceof LockService
        ? (service.sectionFunctionFor(props.lockFunction) ?? props.lockFunction)
        : props.lockFunction;
    this.trackOwner = props.cleanup ?? service instanceof LockService;
    if (this.trackOwner) {
      if (!(service instanceof LockService)) {
        throw new Error(
          'LockedSection: cleanup needs lockFunction to be a function of a LockService; ' +
            'pass cleanup: false for another function',
        );
      }
      ExecutionCleanup.of(Stack.of(this), service);
    } else if (props.cleanup === undefined) {
      Annotations.of(this).addInfo(
        'lockFunction is not a function of a LockService: ended executions hold their lock ' +
          'until its lease ends (no execution cleanup)',
      );
    }
  }

  /**
   * A state that renews the grant (same token, a fresh lease), for between long steps. The
   * states before it must keep the grant at `grantPath` (give them a `resultPath`). A lost
   * lock fails it with `LockLost`, which the section's catch turns into release-and-fail.
   *
   * @example
   * section.wrap(stepOne.next(section.renewStep('RenewAfterStepOne')).next(stepTwo));
   */
  renewStep(id: string): sfn.TaskStateBase {
    return this.invoke(id, 'renew', {
      token: sfn.JsonPath.numberAt(`${this.grantPath}.token`),
      leaseMs: this.leaseMs,
      ...this.permitsField(),
    }).addRetry(TRANSIENT_RETRY);
  }

  /**
   * Builds acquire -> `body` -> release, with release-then-fail on any error in `body`. The
   * section's output is `body`'s output. Call once per section.
   *
   * @example
   * const definition = section.wrap(doWork);
   */
  wrap(body: sfn.IChainable): sfn.Chain {
    if (this.wrapped)
      throw new Error('a LockedSection wraps one body; create another for another body');
    this.wrapped = true;
    const { maxWait, retryInterval, backoffRate, maxRetryDelay } = this.props;
    const interval = retryInterval ?? Duration.seconds(2);
    const rate = backoffRate ?? 1.5;
    const maxDelay = maxRetryDelay ?? Duration.seconds(30);

    const acquire = this.invoke(
      'Acquire',
      'acquire',
      {
        leaseMs: this.leaseMs,
        ...this.permitsField(),
        ...(this.trackOwner ? { trackOwner: true } : {}),
      },
      this.grantPath,
    )
      .addRetry({
        errors: [LOCK_HELD],
        interval,
        backoffRate: rate,
        maxDelay,
        // Full jitter halves the expected delay, so plan the attempts for twice the wait.
        maxAttempts: attemptsWithin(
          2 * (maxWait ?? Duration.minutes(10)).toMilliseconds(),
          interval.toMilliseconds(),
          rate,
          maxDelay.toMilliseconds(),
        ),
        jitterStrategy: sfn.JitterType.FULL,
      })
      .addRetry(TRANSIENT_RETRY);
    acquire.addCatch(
      new sfn.Fail(this, 'LockNotAcquired', {
        stateName: this.stateName('LockNotAcquired'),
        error: 'LockNotAcquired',
        cause: 'the lock stayed held by another owner for longer than maxWait',
      }),
      { errors: [LOCK_HELD], resultPath: sfn.JsonPath.DISCARD },
    );

    // The section's states run in a one-branch Parallel so one Catch covers them all; its output
    // is kept beside the grant, which the release needs even if the states replaced their input.
    const section = new sfn.Parallel(this, 'Section', {
      stateName: this.stateName('Section'),
      resultSelector: { 'output.$': '$[0]' },
      resultPath: '$.lockedSection',
    });
    // The branch starts by renewing the grant it was given: a redrive that restarts the section
    // (Step Functions re-runs a Parallel's unsuccessful branch) after the cleanup freed that
    // grant, or with the grant of an earlier run, is sent back to the acquire instead of running
    // the states without the lock.
    const confirm = this.invoke('Confirm', 'renew', {
      token: sfn.JsonPath.numberAt(`${this.grantPath}.token`),
      leaseMs: this.leaseMs,
      ...this.permitsField(),
    }).addRetry(TRANSIENT_RETRY);
    confirm.addCatch(
      new sfn.Fail(this, 'GrantNotCurrent', {
        stateName: this.stateName('GrantNotCurrent'),
        error: GRANT_NOT_CURRENT,
        cause: 'the grant is not current for this run of the execution: acquire again',
      }),
      { errors: [LOCK_LOST], resultPath: sfn.JsonPath.DISCARD },
    );
    section.branch(sfn.Chain.start(confirm).next(body));
    section.addCatch(acquire, { errors: [GRANT_NOT_CURRENT], resultPath: sfn.JsonPath.DISCARD });

    const failWithSectionError = new sfn.Fail(this, 'SectionFailed', {
      stateName: this.stateName('SectionFailed'),
      errorPath: '$.lockedSectionError.Error',
      causePath: '$.lockedSectionError.Cause',
    });
    const releaseAfterError = this.release('ReleaseAfterError');
    releaseAfterError.addCatch(failWithSectionError, { resultPath: sfn.JsonPath.DISCARD });
    section.addCatch(releaseAfterError.next(failWithSectionError), {
      errors: ['States.ALL'],
      resultPath: '$.lockedSectionError',
    });

    const output = new sfn.Pass(this, 'SectionOutput', {
      stateName: this.stateName('SectionOutput'),
      outputPath: '$.lockedSection.output',
    });
    return sfn.Chain.start(acquire).next(section).next(this.release('Release')).next(output);
  }

  private permitsField(): { permits?: number } {
    return this.permits === undefined ? {} : { permits: this.permits };
  }

  /** State names are unique per state machine: prefix them with this section's id. */
  stateName(state: string): string {
    return `${this.node.id} ${state}`;
  }

  private release(id: string): sfn.TaskStateBase {
    return this.invoke(
      id,
      'release',
      {
        token: sfn.JsonPath.numberAt(`${this.grantPath}.token`),
        ...this.permitsField(),
      },
      sfn.JsonPath.DISCARD,
    ).addRetry(TRANSIENT_RETRY);
  }

  private invoke<O extends 'acquire' | 'renew' | 'release'>(
    id: string,
    action: O,
    fields: SectionFields<O>,
    resultPath: string = this.grantPath,
  ): tasks.LambdaInvoke {
    return new tasks.LambdaInvoke(this, id, {
      stateName: this.stateName(id),
      lambdaFunction: this.lockFunction,
      payload: sfn.TaskInput.fromObject({
        action,
        // After the acquire, the grant names the lock: the section's states may drop the input
        // the lock id was read from.
        lockId:
          action === 'acquire'
            ? this.props.lockId
            : sfn.JsonPath.stringAt(`${this.grantPath}.lockId`),
        // One owner per run of the execution: a retried acquire of the run is idempotent, and
        // a redriven run is a new owner, which the cleanup of the earlier run does not end.
        owner: sfn.JsonPath.format(
          SECTION_OWNER_FORMAT,
          sfn.JsonPath.stringAt('$$.Execution.Id'),
          sfn.JsonPath.stringAt('$$.Execution.RedriveCount'),
        ),
        ...fields,
      }),
      resultSelector:
        resultPath === sfn.JsonPath.DISCARD
          ? undefined
          : Object.fromEntries(
              [...GRANT_FIELDS, ...(this.permits === undefined ? [] : ['permits'])].map((field) => [
                `${field}.$`,
                `$.Payload.${field}`,
              ]),
            ),
      resultPath,
      retryOnServiceExceptions: false,
    });
  }
}

/** Retry attempts whose summed delays first reach `waitMs` (Step Functions has no "retry until"). */
export function attemptsWithin(
  waitMs: number,
  intervalMs: number,
  rate: number,
  maxDelayMs: number,
): number {
  let total = 0;
  let attempts = 0;
  while (total < waitMs && attempts < 10_000) {
    total += Math.min(intervalMs * rate ** attempts, maxDelayMs);
    attempts++;
  }
  return Math.max(1, attempts);
}
