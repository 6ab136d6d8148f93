// `fenced-lock`: the lock library for other Lambdas, scripts and the CLI. It loads no CDK,
// Powertools or middy; the Lambda SDK and the SigV4 signer load only when a transport needs them.
import { LockServiceUnavailable } from './core/errors.js';

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
export { RemoteTransport, type LockTransport } from './client/transport.js';
export { LIST, listPath } from './contract/list.js';
export { hiddenOwner } from './contract/owner-views.js';
export {
  decodeError,
  encodeError,
  fromFunctionError,
  OUTCOME_NAMES,
} from './contract/error-codec.js';
export {
  GRANT_FIELDS,
  OPERATIONS,
  type InputOf,
  type OperationName,
  type OutputOf,
} from './contract/operations.js';

/** @deprecated Renamed {@link LockServiceUnavailable}, which is no longer a `LockError`. */
export const LockServiceError = LockServiceUnavailable;
/** @deprecated Renamed {@link LockServiceUnavailable}. */
export type LockServiceError = LockServiceUnavailable;
