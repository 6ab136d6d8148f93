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
  /** Locks in one page of `list`, unless it asks for fewer or more (up to the max). */
  listLimitDefault: 100,
  listLimitMax: 1_000,
  /**
   * How long an unused lock item is kept after its last lease ends before DynamoDB TTL may
   * delete it. Tokens stay monotonic across that deletion only while writers' clocks agree to
   * within it, so deployments never go below this default.
   */
  retentionMsDefault: 3_600_000,
  retentionMsMax: 366 * 86_400_000,
} as const;
