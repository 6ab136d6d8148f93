import { Aspects, Duration, Fn, type IAspect, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import {
  CLEANUP_STATE_MACHINES_VARIABLE,
  ENDED_STATUSES,
  EXECUTION_STATUS_CHANGE,
} from '../contract/execution-events.js';
import { createLockFunction } from './lock-function.js';
import type { LockService } from './lock-service.js';

/**
 * Frees, at once, everything a Step Functions execution holds when it ends without running its
 * sections' own release (`ABORTED`, `TIMED_OUT`, or `FAILED` outside a section): an EventBridge
 * rule on "Step Functions Execution Status Change", scoped to the state machines of its stack
 * that invoke the lock service, and a function that calls `releaseAllHeldBy` with the owner of
 * the run that ended (its ARN and `redriveCount`: see `sectionOwner`). The function is told the
 * same state machines (`CLEANUP_STATE_MACHINE_ARNS`) and refuses an event of any other, or from
 * any source but Step Functions.
 * The lease stays the backstop: an acquire still in flight when the cleanup runs holds at most
 * its lease. `LockedSection` creates one per stack and lock service; it is not made directly.
 *
 * @example
 * const cleanup = ExecutionCleanup.of(stack, service); // what LockedSection does
 */
export class ExecutionCleanup extends Construct {
  /** The cleanup function (an EventBridge target), allowed only `dynamodb:UpdateItem` on the table. */
  public readonly function: lambda.Function;
  /** The rule on ended executions of the state machines that use the lock service. */
  public readonly rule: events.Rule;
  private readonly machines = new Set<string>();

  /** The stack's cleanup for `service`, made on first use. */
  static of(stack: Stack, service: LockService): ExecutionCleanup {
    const id = `ExecutionCleanup${service.node.addr}`;
    return (
      (stack.node.tryFindChild(id) as ExecutionCleanup) ?? new ExecutionCleanup(stack, id, service)
    );
  }

  private constructor(scope: Stack, id: string, service: LockService) {
    super(scope, id);
    this.function = createLockFunction(this, 'Function', {
      asset: 'cleanup',
      description: 'Lock service: releases what ended Step Functions executions hold',
      timeout: Duration.minutes(1),
      environment: {
        LOCK_TABLE_NAME: service.table.tableName,
        POWERTOOLS_SERVICE_NAME: service.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: service.metricsNamespace,
        // The rule's own list: the function checks what it is given too.
        [CLEANUP_STATE_MACHINES_VARIABLE]: Lazy.string({
          produce: () => Fn.join(',', [...this.machines]),
        }),
      },
      runtime: service.directFunction.runtime,
      memorySize: 256,
      logRetention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    service.grantReleaseAllHeld(this.function);

    this.rule = new events.Rule(this, 'Rule', {
      description: 'Ended executions of state machines with locked sections',
      eventPattern: {
        source: [EXECUTION_STATUS_CHANGE.source],
        detailType: [EXECUTION_STATUS_CHANGE.detailType],
        detail: {
          status: [...ENDED_STATUSES],
          stateMachineArn: Lazy.list({ produce: () => [...this.machines] }),
        },
      },
      // EventBridge retries a failed delivery for up to 24 h; the release is idempotent.
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 20 })],
    });

    // Which state machines use the service is only known once the app is built: an aspect
    // finds every state machine of the stack whose definition invokes the lock function.
    Aspects.of(scope).add(new StateMachinesUsing(() => service.lockFunctions(), this.machines));
    this.node.addValidation({
      validate: () =>
        this.machines.size > 0
          ? []
          : [
              `no state machine in stack ${scope.stackName} invokes the lock service, so the ` +
                'execution cleanup of its LockedSection has nothing to watch (pass cleanup: false ' +
                'to the section if it is used elsewhere)',
            ],
    });
  }
}

/** Collects the ARNs of the state machines whose definition invokes `fn`. */
class StateMachinesUsing implements IAspect {
  constructor(
    private readonly functions: () => readonly lambda.IFunction[],
    private readonly arns: Set<string>,
  ) {}

  visit(node: IConstruct): void {
    if (!(node instanceof sfn.StateMachine)) return;
    const stack = Stack.of(node);
    const definition = (node.node.defaultChild as sfn.CfnStateMachine).definitionString;
    const rendered = JSON.stringify(stack.resolve(definition));
    const uses = (fn: lambda.IFunction) =>
      rendered.includes(JSON.stringify(stack.resolve(fn.functionArn)));
    if (this.functions().some(uses)) this.arns.add(node.stateMachineArn);
  }
}
