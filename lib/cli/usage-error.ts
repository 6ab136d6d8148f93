import type { ErrorCause } from '../core/errors.js';

/** A command line lockctl cannot run; exit code 64 with the usage hint. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorCause) {
    super(message, options);
    this.name = 'UsageError';
  }
}
