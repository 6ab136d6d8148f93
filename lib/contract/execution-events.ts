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
 * The cleanup function's environment variable listing, comma-separated, the ARNs of the state
 * machines whose executions it may clean up (the construct sets it); events of any other are
 * refused.
 */
export const CLEANUP_STATE_MACHINES_VARIABLE = 'CLEANUP_STATE_MACHINE_ARNS';
