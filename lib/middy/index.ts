// `fenced-lock/middy`: lock a Lambda handler with one middleware. It imports nothing from middy
// at run time (only its shape is assumed), so loading it never needs @middy/core.
export { lock, type LockMiddleware, type LockRequest } from './lock-middleware.js';
export { InvocationLock, LOCK_METRICS, type LockOutcome } from './invocation-lock.js';
export {
  TIMEOUT_MARGIN_MS_DEFAULT,
  type FromInvocation,
  type HeldLock,
  type LambdaContextLike,
  type LockedContext,
  type LockLogger,
  type LockMetrics,
  type LockMiddlewareOptions,
  type LockOperations,
  type OnHeld,
  parseLockOptions,
  type LockSettings,
} from './options.js';
