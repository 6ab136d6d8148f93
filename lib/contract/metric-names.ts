// Metric names shared by the handlers that emit them and the CDK alarms that watch them.
/**
 * The names of the service's CloudWatch metrics (namespace {@link ServiceConfig.metricsNamespace},
 * dimension `service`). Alarms and dashboards should use these constants.
 */
export const METRIC_NAMES = {
  /** New grants, including takeovers. */
  grants: 'Grants',
  /** Grants that took over a lease that had expired without release. */
  takeovers: 'Takeovers',
  /** Acquires answered with LockHeld (one per request, however long it waited). */
  refusals: 'Refusals',
  /** Requests refused as invalid input (HTTP 400, `ValidationError`), on either edge. */
  invalidRequests: 'InvalidRequests',
  /** Time, in ms, in acquires that asked to wait (`waitMs` > 0), granted or not. */
  waitTime: 'WaitTime',
  /** Acquires by the current holder answered with its existing grant (retries). */
  regrants: 'Regrants',
  renewals: 'Renewals',
  /** Renews refused with LockLost. */
  lostLeases: 'LostLeases',
  releases: 'Releases',
  /** Releases of a grant that was no longer current (answered `released: false`). */
  staleReleases: 'StaleReleases',
  forceReleases: 'ForceReleases',
  /** Locks and permits freed by the cleanup of ended Step Functions executions. */
  ownerReleases: 'OwnerReleases',
  /** Unexpected faults (answered 500 / InternalError). */
  internalErrors: 'InternalErrors',
  /** Time spent in the lock operation, in ms, including any wait. */
  latency: 'Latency',
} as const;

/** One of {@link METRIC_NAMES}' values. */
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];
