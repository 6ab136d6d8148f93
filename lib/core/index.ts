export { LockError, LockHeld, LockLost, ValidationError, FencedOut } from './errors.js';
export { LIMITS } from './limits.js';
export {
  LockManager,
  type AcquireOptions,
  type Grant,
  type LockEvent,
  type LockManagerOptions,
  type LockState,
  type ReleaseOptions,
  type RenewOptions,
} from './lock-manager.js';
export { createLockTable } from './lock-table.js';
export { LOCK_TABLE_SCHEMA } from './table-schema.js';
export {
  fencedRead,
  fencedWrite,
  type FencedTarget,
  type FencedWriteInput,
} from './fenced-write.js';
export type { LockData } from './validation.js';
