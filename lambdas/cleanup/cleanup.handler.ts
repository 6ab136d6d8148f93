// Lambda entry of the execution cleanup: configuration is read and checked once, at cold start.
import { readConfig } from '../service/config.js';
import { LockUseCase } from '../service/lock-use-case.js';
import { createCleanupHandler, readAllowedStateMachines } from './cleanup.js';

/** The EventBridge target for ended Step Functions executions. */
export const handler = createCleanupHandler(
  new LockUseCase(readConfig(process.env)),
  readAllowedStateMachines(process.env),
);
