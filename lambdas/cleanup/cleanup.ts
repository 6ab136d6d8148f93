// Primary adapter: an EventBridge "Step Functions Execution Status Change" event for an
// execution that ended without running its own release -> release all it holds.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { ValidationError } from '../../lib/core/index.js';
import {
  ENDED_STATUSES,
  EXECUTION_STATUS_CHANGE,
  sectionOwner,
} from '../../lib/contract/execution-events.js';
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
 * Checks the event is an execution status change of an ended execution (the rule delivers
 * nothing else, but the handler does not rely on that) and reads the execution's ARN.
 *
 * @example parseExecutionEnded(event).executionArn
 */
export function parseExecutionEnded(event: unknown): {
  executionArn: string;
  status: string;
  redriveCount: number;
} {
  const { 'detail-type': type, detail } = (event ?? {}) as {
    'detail-type'?: unknown;
    detail?: { executionArn?: unknown; status?: unknown; redriveCount?: unknown };
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
  // Events from before redrive existed carry no count: that is the first run.
  const redriveCount = detail.redriveCount ?? 0;
  if (typeof redriveCount !== 'number' || !Number.isSafeInteger(redriveCount) || redriveCount < 0) {
    throw new ValidationError('detail.redriveCount', 'detail.redriveCount must be a whole number');
  }
  return { executionArn: detail.executionArn, status, redriveCount };
}

/**
 * Builds the cleanup handler over a service. The execution's ARN and the run's redrive count
 * make the owner its sections acquired as in that run (`sectionOwner`), so everything they
 * registered is released at once, and a redriven run of the same execution is left alone.
 *
 * @example
 * const handler = createCleanupHandler(new LockUseCase(readConfig(process.env)));
 */
export function createCleanupHandler(service: LockUseCase): CleanupHandler {
  const handle = async (event: unknown): Promise<CleanupResult> => {
    const { executionArn, status, redriveCount } = parseExecutionEnded(event);
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
