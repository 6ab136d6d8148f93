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
   * DynamoDB's limit on one item (400 KB). A semaphore keeps all its permits in one item, so a
   * permit's owner and `data` must leave room for N permits of that size (see
   * `semaphore-size.ts`): an acquire that could not fit is refused before any write.
   */
  itemMaxBytes: 409_600,
  /**
   * What a semaphore's item keeps besides its lock id and its permits (the counter, `permits`,
   * `ttl`, the two maps' overhead, a former lock's queue counters), set aside before the rest
   * is shared among the N permits. The fixed attributes take under 100 bytes; the rest is margin.
   */
  semaphoreReservedBytes: 2_048,
  /**
   * Most lock ids of each kind (locks, semaphores) one owner may register with `trackOwner`; a
   * further tracked acquire is refused. Keeps an owner's registry item (at most 2 × 100 lock ids
   * of 1 KB) far below the item limit, so ending the owner always works.
   */
  trackedLockIdsMax: 100,
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
