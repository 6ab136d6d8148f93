// The environment variables through which the constructs give the handlers their policy: the
// CDK side sets them, the handlers read and check them at cold start.

/** The names of the handlers' policy variables. */
export const FUNCTION_VARIABLES = {
  /** Direct functions: the comma-separated operations the function runs. */
  actions: 'LOCK_ACTIONS',
  /** Direct functions: the JSON array of lock id prefixes a scope's function serves. */
  prefixes: 'LOCK_PREFIXES',
  /** Direct functions: who invokes it (`DIRECT_CALLERS`), which decides the owners it acts for. */
  callers: 'LOCK_CALLERS',
  /** The API function: the JSON array of scoped principals `{ principal, prefixes, operations }`. */
  apiScopes: 'LOCK_API_SCOPES',
  /** The API function: the JSON array of the operators' role or user ARNs. */
  apiOperators: 'LOCK_API_OPERATORS',
} as const;
