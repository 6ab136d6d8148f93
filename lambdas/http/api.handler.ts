// Lambda entry of the HTTP API: configuration is read and checked once, at cold start, so a
// misconfigured function fails its init with a message naming the variable.
import { readConfig } from '../service/config.js';
import { LockUseCase } from '../service/lock-use-case.js';
import { createApiHandler } from './api.js';
import { readApiOperators, readCallerScopes } from './caller-scopes.js';

/** The API Gateway proxy handler (REST API v1 or HTTP API v2 events) for every route of the lock API. */
export const handler = createApiHandler(new LockUseCase(readConfig(process.env)), {
  scopes: readCallerScopes(process.env),
  operators: readApiOperators(process.env),
});
