// Primary adapter: an EventBridge "Step Functions Execution Status Change" event for an
// execution that ended without running its own release -> release all it holds.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { ValidationError } from '../../lib/core/index.js';
import { ENDED_STATUSES, EXECUTION_STATUS_CHANGE } from '../../lib/contract/execution-events.js';
import type { LockUseCase } from '../service/lock-use-case.js';

/** What the handler answers: the execution, and the locks and semaphores freed for it. */
export interface CleanupResult {
  executionArn: string;
  status: string;
  released: string[];
}

export type CleanupHandler = (event: unknown, context: Context) => Promise<CleanupResult>;

/**
 * Checks the event is an execution status change of an ended execution (the rule delivers
 * nothing else, but the handler does not rely on that) and reads the execution's ARN.
 *
 * @example parseExecutionEnded(event).executionArn
 */
export function parseExecutionEnded(event: unknown): { executionArn: string; status: string } {
  const { 'detail-type': type, detail } = (event ?? {}) as {
    'detail-type'?: unknown;
    detail?: { executionArn?: unknown; status?: unknown };
  };
  if (type !== EXECUTION_STATUS_CHANGE.detailType) {
    throw new ValidationError('detail-type', `expected "${EXECUTION_STATUS_CHANGE.detailType}"`);
  }
  const status = detail?.status;
  if (typeof status !== 'string' || !(ENDED_STATUSES as readonly string[]).includes(status)) {
    throw new ValidationError('detail.status', `expected one of ${ENDED_STATUSES.join(', ')}`);
  }
  if (typeof detail?.executionArn !== 'string' || detail.executionArn === '') {
    throw new ValidationError('detail.executionArn', 'detail.executionArn must be a string');
  }
  return { executionArn: detail.executionArn, status };
}

/**
 * Builds the cleanup handler over a service. The execution's ARN is the owner its sections
 * acquired as (`$$.Execution.Id`), so everything they registered is released at once.
 *
 * @example
 * const handler = createCleanupHandler(new LockUseCase(readConfig(process.env)));
 */
export function createCleanupHandler(service: LockUseCase): CleanupHandler {
  const handle = async (event: unknown): Promise<CleanupResult> => {
    const { executionArn, status } = parseExecutionEnded(event);
    service.logger.appendKeys({ owner: executionArn, status });
    const { released } = await service.releaseAllHeldBy(executionArn);
    service.logger.info('execution cleaned up', { released });
    return { executionArn, status, released };
  };

  return middy(handle)
    .use(captureLambdaHandler(service.tracer))
    .use(injectLambdaContext(service.logger, { resetKeys: true }))
    .use(logMetrics(service.metrics));
}
