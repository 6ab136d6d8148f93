// Lambda entry of the HTTP API: configuration is read and checked once, at cold start, so a
// misconfigured function fails its init with a message naming the variable.
import { readConfig } from '../service/config.js';
import { LockUseCase } from '../service/lock-use-case.js';
import { createApiHandler } from './api.js';

/** The API Gateway REST (proxy, v1 event) handler for every route of the lock API. */
export const handler = createApiHandler(new LockUseCase(readConfig(process.env)));
