/** Input limits of the lock API; the HTTP edge and the docs quote the same numbers. */
export const LIMITS = {
  lockIdMaxBytes: 1024,
  ownerMaxBytes: 256,
  leaseMsMin: 1_000,
  leaseMsMax: 43_200_000,
  leaseMsDefault: 30_000,
  waitMsMax: 900_000,
  dataMaxBytes: 4_096,
} as const;
