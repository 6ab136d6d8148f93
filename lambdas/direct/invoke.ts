// Primary adapter: a direct invocation (Step Functions, Lambda.invoke) -> LockUseCase -> result.
import { FUNCTION_VARIABLES } from '../../lib/contract/function-variables.js';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { toFunctionError } from '../../lib/contract/error-codec.js';
import {
  fieldNames,
  isOperation,
  type LockRequest,
  OPERATION_NAMES,
  type OperationName,
  parseLockRequest,
} from '../../lib/contract/operations.js';
import { LIST, parseListRequest } from '../../lib/contract/list.js';
import { hiddenOwner } from '../../lib/contract/owner-views.js';
import {
  DIRECT_CALLERS,
  type DirectCallers,
  isExecutionOwner,
} from '../../lib/contract/execution-events.js';
import {
  AccessDenied,
  LIMITS,
  type ListOptions,
  type ListResult,
  LockError,
  ValidationError,
} from '../../lib/core/index.js';
import { parseObject } from '../../lib/core/validation.js';
import { isBoundOwner } from '../http/bound-owners.js';
import { checkInScope } from '../http/caller-scopes.js';
import { ConfigError, readJsonVariable } from '../service/config.js';
import { InternalError } from '../service/internal-error.js';
import type { LockResponse, LockUseCase } from '../service/lock-use-case.js';
import { viewOwners, viewOwnersIn } from '../service/owner-views.js';

/**
 * The event of a direct invocation: an operation's name as `action`, the lock id, and that
 * operation's fields.
 *
 * @example
 * { "action": "acquire", "lockId": "reports", "owner": "exec-1", "leaseMs": 60000 }
 */
export interface InvokeEvent {
  action: OperationName;
  lockId: string;
  [field: string]: unknown;
}

/**
 * Time kept back from a wait so the function can still answer before it times out: the wait's
 * last DynamoDB request may take up to its timeout, and the answer needs a moment more.
 */
export const ANSWER_MARGIN_MS = LIMITS.requestTimeoutMsDefault + 1_000;

/** The direct invocation handler's signature. */
export type InvokeHandler = (
  event: unknown,
  context: Context,
) => Promise<LockResponse | ListResult>;

/**
 * Reads a listing's event, `{ "action": "list", "prefix"?, "limit"?, "cursor"? }`, or returns
 * undefined for any other event.
 *
 * @example parseListEvent({ action: 'list', prefix: 'orders/' }) // { prefix: 'orders/' }
 */
export function parseListEvent(event: unknown): ListOptions | undefined {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  if (!Object.hasOwn(event, 'action') || (event as { action?: unknown }).action !== LIST.action) {
    return undefined;
  }
  const fields = Object.entries(event).filter(([name]) => name !== 'action');
  return parseListRequest(Object.fromEntries(fields));
}

/**
 * Checks an invocation event: an object, a known action, no fields that action does not take.
 *
 * @example
 * const request = parseInvokeEvent({ action: 'get', lockId: 'reports' });
 */
export function parseInvokeEvent(event: unknown): LockRequest {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new ValidationError(
      'event',
      'the event must be a JSON object with "action" and "lockId"',
    );
  }
  const { action } = event as Record<string, unknown>;
  if (!isOperation(action)) {
    throw new ValidationError(
      'action',
      `action must be one of ${[...OPERATION_NAMES, LIST.action].map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(action) ?? 'nothing'}`,
    );
  }
  const input = parseObject(event, ['action', 'lockId', ...fieldNames(action)], 'event');
  if (input.lockId === undefined) throw new ValidationError('lockId', 'lockId is required');
  return parseLockRequest(action, input.lockId, input);
}

// A wait never outlasts the invocation: it ends in time to answer LockHeld rather than time out.
function withinInvocation(request: LockRequest, context: Context): LockRequest {
  if (request.action !== 'acquire' || typeof context?.getRemainingTimeInMillis !== 'function') {
    return request;
  }
  const budget = Math.max(0, context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS);
  const waitMs = request.options.waitMs ?? 0;
  if (waitMs <= budget) return request;
  return {
    ...request,
    options: { ...request.options, waitMs: Math.min(budget, LIMITS.waitMsMax) },
  };
}

/** What a direct invocation function may run, set by the construct that deploys it. */
export interface InvokeHandlerOptions {
  /**
   * The lock operations this function runs; any other is refused with `AccessDenied` before
   * the table is touched. The listing is not a lock operation and is unaffected.
   *
   * @default every operation (an operator's function, or a local one)
   */
  readonly actions?: readonly OperationName[];
  /**
   * The lock id prefixes this function serves (a scope's own function): other ids, and
   * listings without a `prefix` in scope, are refused with `AccessDenied`.
   *
   * @default every lock id
   */
  readonly prefixes?: readonly string[];
  /**
   * Who invokes this function, which decides the owners it acts for: `workers` (Lambdas) are
   * refused an execution's owner and `trackOwner`, and see other holders' owners only as
   * digests (`hiddenOwner`); `sections` (`LockedSection`s' state machines) act only as
   * executions' owners. What is refused is refused with `AccessDenied`.
   *
   * @default any caller, any owner (an operator's function, or a local one)
   */
  readonly callers?: DirectCallers;
}

/**
 * Reads `LOCK_CALLERS` (`workers` or `sections`, see {@link InvokeHandlerOptions.callers}):
 * unset means any caller; another value fails the cold start, naming the variable.
 *
 * @example readDirectCallers({ LOCK_CALLERS: 'workers' }) // 'workers'
 */
export function readDirectCallers(
  env: Record<string, string | undefined>,
): DirectCallers | undefined {
  const raw = env[FUNCTION_VARIABLES.callers]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const known = Object.values(DIRECT_CALLERS) as string[];
  if (!known.includes(raw)) {
    throw new ConfigError(FUNCTION_VARIABLES.callers, `must be one of ${known.join(', ')}`);
  }
  return raw as DirectCallers;
}

/**
 * The options a deployed direct function runs with, read from its environment
 * (`LOCK_ACTIONS`, `LOCK_PREFIXES`, `LOCK_CALLERS`) and checked at cold start.
 *
 * @example createInvokeHandler(service, readInvokeHandlerOptions(process.env))
 */
export function readInvokeHandlerOptions(
  env: Record<string, string | undefined>,
): InvokeHandlerOptions {
  return {
    actions: readAllowedActions(env),
    prefixes: readAllowedPrefixes(env),
    callers: readDirectCallers(env),
  };
}

/**
 * Refuses an owner this function's callers may not act for: a worker naming an execution (a
 * section's owner, which the execution cleanup ends) or an API caller's bound owner, or
 * registering with `trackOwner`; a section naming anything but an execution.
 */
function checkOwner(request: LockRequest, callers: DirectCallers | undefined): void {
  if (callers === undefined || !('owner' in request.options)) return;
  const execution = isExecutionOwner(request.options.owner);
  if (callers === DIRECT_CALLERS.workers) {
    if (execution) {
      throw new AccessDenied(
        "owner names a Step Functions execution: only the service's section function, which " +
          "LockedSection's state machines invoke, acts for executions",
      );
    }
    if (isBoundOwner(request.options.owner)) {
      throw new AccessDenied(
        "owner has the form of an API caller's owner (an IAM principal and '#'): only that " +
          'caller, through the API, acts for it',
      );
    }
    if (request.action === 'acquire' && request.options.trackOwner === true) {
      throw new AccessDenied(
        "trackOwner is for Step Functions sections (LockedSection, through the service's " +
          'section function): a worker cannot register owners for the execution cleanup',
      );
    }
  } else if (!execution) {
    throw new AccessDenied(
      'this function serves LockedSection state machines: the owner must be their execution',
    );
  }
}

/**
 * Reads `LOCK_PREFIXES`, the JSON array of lock id prefixes a scope's direct function serves:
 * unset means every lock id; a malformed value fails the cold start, naming the variable.
 *
 * @example readAllowedPrefixes({ LOCK_PREFIXES: '["team-a:"]' }) // ['team-a:']
 */
export function readAllowedPrefixes(
  env: Record<string, string | undefined>,
): readonly string[] | undefined {
  const parsed = readJsonVariable(env, FUNCTION_VARIABLES.prefixes, 'a JSON array of prefixes');
  if (parsed === undefined) return undefined;
  const valid =
    Array.isArray(parsed) &&
    parsed.length > 0 &&
    parsed.every((p) => typeof p === 'string' && p !== '');
  if (!valid)
    throw new ConfigError(FUNCTION_VARIABLES.prefixes, 'must be a JSON array of non-empty strings');
  return parsed as string[];
}

/**
 * Reads `LOCK_ACTIONS`, the comma-separated operations a deployed direct function runs:
 * unset means every operation; an unknown name fails the cold start, naming the variable.
 *
 * @example readAllowedActions({ LOCK_ACTIONS: 'acquire,renew,release,get' })
 */
export function readAllowedActions(
  env: Record<string, string | undefined>,
): readonly OperationName[] | undefined {
  const raw = env[FUNCTION_VARIABLES.actions]?.trim();
  if (raw === undefined || raw === '') return undefined;
  return raw.split(',').map((name) => {
    const action = name.trim();
    if (!isOperation(action)) {
      throw new ConfigError(
        FUNCTION_VARIABLES.actions,
        `must list operations of ${OPERATION_NAMES.join(', ')}`,
      );
    }
    return action;
  });
}

/**
 * Builds the direct invocation handler over a service; `invoke.handler.ts` builds the deployed
 * one from the environment. A refusal is thrown as the lock outcome's own type (the Lambda
 * error type Step Functions' Retry and Catch match), its message the JSON error body.
 *
 * @example
 * const handler = createInvokeHandler(new LockUseCase(readConfig(process.env)));
 * await handler({ action: 'get', lockId: 'reports' }, context);
 */
export function createInvokeHandler(
  service: LockUseCase,
  options: InvokeHandlerOptions = {},
): InvokeHandler {
  const allowed = new Set<OperationName>(options.actions ?? OPERATION_NAMES);
  // A workers' function's callers have no identity, so an owner is all it takes to act as a
  // holder there: they see others' owners only as digests.
  const others = options.callers === DIRECT_CALLERS.workers ? hiddenOwner : undefined;
  const handle = async (event: unknown, context: Context): Promise<LockResponse | ListResult> => {
    try {
      const list = parseListEvent(event);
      if (list !== undefined) {
        checkInScope(options.prefixes, list.prefix, 'prefix');
        const page = await service.list(list);
        return viewOwners(page, others);
      }
      const request = withinInvocation(parseInvokeEvent(event), context);
      checkInScope(options.prefixes, request.lockId, 'lockId');
      checkOwner(request, options.callers);
      if (!allowed.has(request.action)) {
        throw new AccessDenied(
          `${request.action} is not allowed through this function: it is kept for operators`,
        );
      }
      const answer = await service.execute(request);
      // A grant names the caller's own owner; only a lock's state names others.
      return request.action === 'get' ? viewOwners(answer, others) : answer;
    } catch (thrown) {
      const err = viewOwnersIn(thrown, others);
      if (err instanceof LockError) {
        service.recordRefused(err);
        throw toFunctionError(err);
      }
      service.recordFault(err);
      throw toFunctionError(new InternalError(context?.awsRequestId ?? 'unknown'));
    }
  };

  return middy(handle)
    .use(captureLambdaHandler(service.tracer))
    .use(injectLambdaContext(service.logger, { resetKeys: true }))
    .use(logMetrics(service.metrics, { captureColdStartMetric: true }));
}
