// Primary adapter: an EventBridge "Step Functions Execution Status Change" event for an
// execution that ended without running its own release -> release all it holds.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { ValidationError } from '../../lib/core/index.js';
import {
  CLEANUP_STATE_MACHINES_VARIABLE,
  ENDED_STATUSES,
  EXECUTION_STATUS_CHANGE,
  sectionOwner,
} from '../../lib/contract/execution-events.js';
import { ConfigError } from '../service/config.js';
import type { LockUseCase } from '../service/lock-use-case.js';

/** What the handler answers: the execution's run, and the locks and semaphores freed for it. */
export interface CleanupResult {
  executionArn: string;
  status: string;
  /** Which run of the execution ended: 0, or how many times it had been redriven. */
  redriveCount: number;
  released: string[];
}

export type CleanupHandler = (event: unknown, context: Context) => Promise<CleanupResult>;

/**
 * Reads the state machines whose executions the cleanup may end, from
 * `CLEANUP_STATE_MACHINE_ARNS` (comma-separated ARNs, set by the construct). Fails the cold
 * start when there are none: a cleanup that trusted every state machine would be worse than
 * none.
 *
 * @example readAllowedStateMachines(process.env).has(stateMachineArn)
 */
export function readAllowedStateMachines(
  env: Record<string, string | undefined>,
): ReadonlySet<string> {
  const arns = (env[CLEANUP_STATE_MACHINES_VARIABLE] ?? '')
    .split(',')
    .map((arn) => arn.trim())
    .filter((arn) => arn !== '');
  if (arns.length === 0) {
    throw new ConfigError(
      CLEANUP_STATE_MACHINES_VARIABLE,
      'is required: the comma-separated ARNs of the state machines to clean up after',
    );
  }
  return new Set(arns);
}

/**
 * Checks the event is an execution status change from Step Functions (`source`), of an ended
 * execution, of one of the `allowed` state machines, and reads the execution's ARN. The rule
 * delivers nothing else, but the handler does not rely on that: anyone allowed to invoke it
 * could send any event.
 *
 * @example parseExecutionEnded(event, new Set([stateMachineArn])).executionArn
 */
export function parseExecutionEnded(
  event: unknown,
  allowed: ReadonlySet<string>,
): { executionArn: string; status: string; redriveCount: number } {
  const envelope = (typeof event === 'object' && event !== null ? event : {}) as Record<
    string,
    unknown
  >;
  const field = (name: string) => (Object.hasOwn(envelope, name) ? envelope[name] : undefined);
  if (field('source') !== EXECUTION_STATUS_CHANGE.source) {
    throw new ValidationError('source', `expected "${EXECUTION_STATUS_CHANGE.source}"`);
  }
  if (field('detail-type') !== EXECUTION_STATUS_CHANGE.detailType) {
    throw new ValidationError('detail-type', `expected "${EXECUTION_STATUS_CHANGE.detailType}"`);
  }
  const raw = field('detail');
  const detail = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const { status, executionArn, stateMachineArn } = {
    status: Object.hasOwn(detail, 'status') ? detail.status : undefined,
    executionArn: Object.hasOwn(detail, 'executionArn') ? detail.executionArn : undefined,
    stateMachineArn: Object.hasOwn(detail, 'stateMachineArn') ? detail.stateMachineArn : undefined,
  };
  if (typeof status !== 'string' || !(ENDED_STATUSES as readonly string[]).includes(status)) {
    throw new ValidationError('detail.status', `expected one of ${ENDED_STATUSES.join(', ')}`);
  }
  if (typeof stateMachineArn !== 'string' || !allowed.has(stateMachineArn)) {
    throw new ValidationError(
      'detail.stateMachineArn',
      'not a state machine this cleanup serves (see CLEANUP_STATE_MACHINE_ARNS)',
    );
  }
  if (typeof executionArn !== 'string' || !isExecutionOf(executionArn, stateMachineArn)) {
    throw new ValidationError(
      'detail.executionArn',
      'detail.executionArn must be an execution of detail.stateMachineArn',
    );
  }
  // Events from before redrive existed carry no count: that is the first run.
  const redriveCount = Object.hasOwn(detail, 'redriveCount') ? detail.redriveCount : 0;
  if (typeof redriveCount !== 'number' || !Number.isSafeInteger(redriveCount) || redriveCount < 0) {
    throw new ValidationError('detail.redriveCount', 'detail.redriveCount must be a whole number');
  }
  return { executionArn, status, redriveCount };
}

/**
 * `arn:aws:states:r:a:execution:Machine:name` is an execution of
 * `arn:aws:states:r:a:stateMachine:Machine`.
 */
function isExecutionOf(executionArn: string, stateMachineArn: string): boolean {
  const marker = ':stateMachine:';
  const at = stateMachineArn.indexOf(marker);
  if (at < 0) return false;
  const prefix = `${stateMachineArn.slice(0, at)}:execution:${stateMachineArn.slice(at + marker.length)}:`;
  return executionArn.startsWith(prefix) && executionArn.length > prefix.length;
}

/**
 * Builds the cleanup handler over a service. The execution's ARN and the run's redrive count
 * make the owner its sections acquired as in that run (`sectionOwner`), so everything they
 * registered is released at once, and a redriven run of the same execution is left alone. An
 * event that fails the checks is logged with its reason and refused, changing nothing.
 *
 * @example
 * const handler = createCleanupHandler(
 *   new LockUseCase(readConfig(process.env)),
 *   readAllowedStateMachines(process.env),
 * );
 */
export function createCleanupHandler(
  service: LockUseCase,
  allowed: ReadonlySet<string>,
): CleanupHandler {
  const handle = async (event: unknown): Promise<CleanupResult> => {
    let ended: { executionArn: string; status: string; redriveCount: number };
    try {
      ended = parseExecutionEnded(event, allowed);
    } catch (err) {
      if (err instanceof ValidationError) {
        service.logger.warn('event refused', { field: err.field, reason: err.message });
      }
      throw err;
    }
    const { executionArn, status, redriveCount } = ended;
    const owner = sectionOwner(executionArn, redriveCount);
    service.logger.appendKeys({ owner, status });
    const { released } = await service.releaseAllHeldBy(owner);
    service.logger.info('execution cleaned up', { released });
    return { executionArn, status, redriveCount, released };
  };

  return middy(handle)
    .use(captureLambdaHandler(service.tracer))
    .use(injectLambdaContext(service.logger, { resetKeys: true }))
    .use(logMetrics(service.metrics));
}
