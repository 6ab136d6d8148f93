// Primary adapter: API Gateway proxy event (REST v1 or HTTP API v2) -> LockUseCase (core
// LockManager) -> HTTP response.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { isListPath, LIST, parseListRequest } from '../../lib/contract/list.js';
import type { LockUseCase } from '../service/lock-use-case.js';
import { viewOwners, viewOwnersIn } from '../service/owner-views.js';
import { bindOwner, ownerQualifier, ownerView } from './bound-owners.js';
import { type CallerScopes, checkInScope, checkOperation, scopeOf } from './caller-scopes.js';
import { type ApiEvent, toApiRequest } from './events.js';
import { errorResponse, isClientError, MethodNotAllowed, ok } from './http-errors.js';
import { parseHttpRequest } from './requests.js';
import { route } from './routes.js';

/**
 * The proxy handler's signature. Both API kinds take the same `{ statusCode, headers, body }`
 * result (payload format 2.0 reads it as a structured response).
 */
export type ApiHandler = (event: ApiEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** What the construct tells the API handler beyond the service's configuration. */
export interface ApiHandlerOptions {
  /**
   * Callers limited to lock id prefixes, by IAM principal (`LOCK_API_SCOPES`); others are not.
   *
   * @default no caller is scoped
   */
  readonly scopes?: CallerScopes;
  /**
   * The principal keys of the operators (`LOCK_API_OPERATORS`): never scoped.
   *
   * @default none
   */
  readonly operators?: ReadonlySet<string>;
}

/**
 * Builds the HTTP API handler over a service; `api.handler.ts` builds the deployed one from the
 * environment, the local server and the tests build theirs against DynamoDB Local.
 *
 * @example
 * const handler = createApiHandler(new LockUseCase(readConfig(process.env)));
 */
export function createApiHandler(
  service: LockUseCase,
  options: ApiHandlerOptions = {},
): ApiHandler {
  const scopes: CallerScopes = options.scopes ?? new Map();
  const operators = options.operators ?? new Set<string>();
  const handle = async (event: ApiEvent, context: Context) => {
    const http = toApiRequest(event);
    const qualifier = ownerQualifier(http.callerArn);
    const view = ownerView(qualifier);
    try {
      const access = scopeOf(scopes, operators, http.callerArn);
      if (isListPath(http.path)) {
        if (http.method.toUpperCase() !== LIST.method) {
          throw new MethodNotAllowed(http.method.toUpperCase(), [LIST.method]);
        }
        const list = parseListRequest(http.query, { text: true });
        checkInScope(access?.prefixes, list.prefix, 'prefix');
        return ok(viewOwners(await service.list(list), view));
      }
      const { action, lockId } = route(http);
      const request = parseHttpRequest(action, lockId, http, service.config.maxHttpWaitMs);
      checkInScope(access?.prefixes, request.lockId, 'lockId');
      checkOperation(access, request.action);
      return ok(viewOwners(await service.execute(bindOwner(request, qualifier)), view));
    } catch (thrown) {
      const err = viewOwnersIn(thrown, view);
      if (!isClientError(err)) service.recordFault(err);
      else service.recordRefused(err as Error);
      return errorResponse(err, http.requestId ?? context.awsRequestId);
    }
  };

  return middy(handle)
    .use(captureLambdaHandler(service.tracer))
    .use(injectLambdaContext(service.logger, { resetKeys: true }))
    .use(logMetrics(service.metrics, { captureColdStartMetric: true }));
}
