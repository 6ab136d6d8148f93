// The EventBridge events the execution cleanup listens to, shared by the rule (CDK) and the
// handler that checks them.

/** Step Functions' status change events (Standard workflows only: Express ones emit none). */
export const EXECUTION_STATUS_CHANGE = {
  source: 'aws.states',
  detailType: 'Step Functions Execution Status Change',
} as const;

/** The statuses of an execution that ended without running the section's own release. */
export const ENDED_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/**
 * The owner a locked section acquires as in one run of an execution, as a `States.Format`
 * template of the execution ARN and its redrive count: a redriven execution keeps its ARN, so
 * the count tells its runs apart (the original run is 0). The cleanup of a run that ended ends
 * that run's owner only, so a late acquire of the run is refused while a redrive can lock again.
 */
export const SECTION_OWNER_FORMAT = '{}#run-{}';

/**
 * A section's owner in run `redriveCount` of `executionArn`, as the state machine formats it.
 *
 * @example sectionOwner('arn:aws:states:...:execution:Machine:x', 1) // '...:x#run-1'
 */
export const sectionOwner = (executionArn: string, redriveCount: number): string =>
  [executionArn, String(redriveCount)].reduce(
    (text, value) => text.replace('{}', () => value),
    SECTION_OWNER_FORMAT,
  );

/**
 * The cleanup function's environment variable listing, comma-separated, the ARNs of the state
 * machines whose executions it may clean up (the construct sets it); events of any other are
 * refused.
 */
export const CLEANUP_STATE_MACHINES_VARIABLE = 'CLEANUP_STATE_MACHINE_ARNS';

/**
 * Whether `owner` names a Step Functions execution (`arn:PARTITION:states:REGION:ACCOUNT:execution:...`,
 * a section's owner among them): an owner the execution cleanup may end, so only the section
 * function, which only sections' state machines may invoke, acts for it.
 *
 * @example isExecutionOwner(sectionOwner(executionArn, 0)) === true
 */
export const isExecutionOwner = (owner: string): boolean =>
  /^arn:[^:]*:states:[^:]*:[^:]*:execution:/.test(owner);

/** Who may invoke a direct function, which decides the owners it acts for (`LOCK_CALLERS`). */
export const DIRECT_CALLERS = {
  /**
   * Lambdas and other workers: never an execution's owner, never `trackOwner`, so the worker
   * grant cannot act for a section or fill an execution's cleanup registry.
   */
  workers: 'workers',
  /** `LockedSection`s' state machines only: owners are executions, `trackOwner` allowed. */
  sections: 'sections',
} as const;

export type DirectCallers = (typeof DIRECT_CALLERS)[keyof typeof DIRECT_CALLERS];
