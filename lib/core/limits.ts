/** Input limits of the lock API; the edges, the constructs and the docs quote the same numbers. */
export const LIMITS = {
  lockIdMaxBytes: 1024,
  ownerMaxBytes: 256,
  leaseMsMin: 1_000,
  leaseMsMax: 43_200_000,
  leaseMsDefault: 30_000,
  waitMsMax: 900_000,
  dataMaxBytes: 4_096,
  /** Most permits a semaphore may have. */
  permitsMax: 1_000,
  /**
   * How long an unused lock item is kept after its last lease ends before DynamoDB TTL may
   * delete it. Tokens stay monotonic across that deletion only while writers' clocks agree to
   * within it, so deployments never go below this default.
   */
  retentionMsDefault: 3_600_000,
  retentionMsMax: 366 * 86_400_000,
  /**
   * How long one DynamoDB request (the SDK's retries included) may take before it fails with
   * `LockServiceUnavailable`: DynamoDB answers in milliseconds and the SDK's three attempts take
   * well under a second, so 3 s leaves room for a cold start's new connection while a caller in
   * a Lambda still learns of the fault long before its function times out.
   */
  requestTimeoutMsDefault: 3_000,
  /** The longest request timeout: a Lambda invocation's limit. */
  requestTimeoutMsMax: 900_000,
} as const;
