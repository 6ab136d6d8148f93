import { INTERNAL_ERROR } from '../../lib/contract/error-codec.js';

/**
 * An unexpected fault, answered with a generic message (the real one is in the logs) by both
 * edges: HTTP 500, or the direct function's error type `InternalError`. Lock outcomes are the
 * core's `LockHeld`, `LockLost` and `ValidationError` instead.
 *
 * @example
 * "Catch": [{ "ErrorEquals": ["InternalError"], "Next": "Alert" }]
 */
export class InternalError extends Error {
  constructor(requestId: string, options?: ErrorOptions) {
    super(
      `internal error; the service logs have the details under request id ${requestId}`,
      options,
    );
    this.name = INTERNAL_ERROR;
  }
}
