// Lambda entry of the direct invocation: configuration is read and checked once, at cold start,
// so a misconfigured function fails its init with a message naming the variable.
import { readConfig } from '../service/config.js';
import { LockService } from '../service/lock-service.js';
import { createInvokeHandler } from './invoke.js';

/** The direct invocation handler: events `{ action, lockId, ... }` from Step Functions or Lambda.invoke. */
export const handler = createInvokeHandler(new LockService(readConfig(process.env)));
