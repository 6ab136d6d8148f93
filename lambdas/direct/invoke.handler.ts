// Lambda entry of the direct invocation: configuration is read and checked once, at cold start,
// so a misconfigured function fails its init with a message naming the variable.
import { readConfig } from '../service/config.js';
import { LockUseCase } from '../service/lock-use-case.js';
import { createInvokeHandler, readInvokeHandlerOptions } from './invoke.js';

/** The direct invocation handler: events `{ action, lockId, ... }` from Step Functions or Lambda.invoke. */
export const handler = createInvokeHandler(
  new LockUseCase(readConfig(process.env)),
  readInvokeHandlerOptions(process.env),
);
