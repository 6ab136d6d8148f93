// The package root: the lock library for other Lambdas, scripts and the CLI.
export * from './core/index.js';
export {
  LockClient,
  type LockClientOptions,
  type LockContext,
  type ResourceOptions,
  type WithLockOptions,
} from './client/lock-client.js';
export { HttpTransport, type HttpTransportOptions } from './client/http-transport.js';
export { LambdaTransport, type LambdaTransportOptions } from './client/lambda-transport.js';
export { LockServiceError, type LockTransport } from './client/transport.js';
