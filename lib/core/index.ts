export {
  AccessDenied,
  type ErrorBody,
  FencedOut,
  FencedWriteRejected,
  type Holder,
  LockError,
  LockHeld,
  LockLost,
  LockServiceUnavailable,
  ValidationError,
} from './errors.js';
export { BACKOFF_DEFAULTS, backoffDelay, type Backoff } from './backoff.js';
export {
  createDocumentClient,
  createDynamoClient,
  type DynamoDbClientOptions,
} from './dynamodb-client.js';
export { LIMITS } from './limits.js';
export {
  LockManager,
  type AcquireOptions,
  type Grant,
  type ListOptions,
  type ListResult,
  type LockEvent,
  type LockManagerOptions,
  type LockState,
  type ReleaseOptions,
  type ReleaseResult,
  type RenewOptions,
} from './lock-manager.js';
export { createLockTable, type LockTableResult } from './lock-table.js';
export { LOCK_TABLE_SCHEMA } from './table-schema.js';
export {
  fencedRead,
  fencedWrite,
  type FencedTarget,
  type FencedWriteInput,
} from './fenced-write.js';
export type { LockData } from './validation.js';
