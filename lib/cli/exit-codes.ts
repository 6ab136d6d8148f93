/** lockctl's exit codes (sysexits-style, so they rarely clash with a child's own codes). */
export const EXIT = {
  ok: 0,
  /** Bad command line or input. */
  usage: 64,
  /** The service or DynamoDB could not be reached, or failed. */
  unavailable: 69,
  /** The lock is held by someone else (not acquired within --wait). */
  held: 75,
  /** The lock was lost: a renew was refused, or `run` lost its lease while the command ran. */
  lost: 76,
  /** The caller may not do this (`AccessDenied`: an operator's action, or outside its scope). */
  denied: 77,
} as const;
