// The one codec of the error wire form (see ErrorBody): the HTTP edge, the direct handler and
// lockctl encode with it, the HTTP and Lambda transports decode with it. A lock outcome comes
// back as the same class with the same fields; anything else is a LockServiceUnavailable.
import {
  AccessDenied,
  type ErrorBody,
  FencedOut,
  LockError,
  LockHeld,
  LockLost,
  LockServiceUnavailable,
  ValidationError,
} from '../core/errors.js';

type Body = Record<string, unknown>;

const text = (value: unknown, fallback: string): string =>
  typeof value === 'string' ? value : fallback;
const number = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : Number.NaN;

/** The wire `error` (and Lambda error type) of each lock outcome: its class name. */
export type OutcomeName =
  'LockHeld' | 'LockLost' | 'ValidationError' | 'FencedOut' | 'AccessDenied';

/**
 * The error type of an unexpected fault of the service (HTTP 500, or the direct function's
 * thrown error), whose message names only a request id to find the details in the logs.
 */
export const INTERNAL_ERROR = 'InternalError';

/** Rebuilds each lock outcome from its body. */
const OUTCOMES: Record<OutcomeName, (body: Body, lockId: string) => LockError> = {
  LockHeld: (body, lockId) =>
    new LockHeld(lockId, {
      owner: text(body.owner, ''),
      expiresAt: number(body.expiresAt),
      retryAfterMs: number(body.retryAfterMs),
      ...(typeof body.waiting === 'number' ? { waiting: body.waiting } : {}),
    }),
  LockLost: (body, lockId) =>
    typeof body.message === 'string' ? new LockLost(lockId, body.message) : new LockLost(lockId),
  ValidationError: (body) =>
    new ValidationError(text(body.field, 'body'), text(body.message, 'invalid input')),
  FencedOut: (body) => new FencedOut(number(body.token), number(body.acceptedToken)),
  AccessDenied: (body) => new AccessDenied(text(body.message, 'access denied')),
};

/** The `error` names of the lock outcomes, for Step Functions' Retry and Catch. */
export const OUTCOME_NAMES = Object.freeze(Object.keys(OUTCOMES) as OutcomeName[]);

/**
 * The wire form of an error: a lock outcome or fault with all its fields, anything else by
 * name and message only.
 *
 * @example JSON.stringify(encodeError(new LockLost('a')))
 */
export function encodeError(err: unknown): ErrorBody {
  if (err instanceof LockError || err instanceof LockServiceUnavailable) return err.toJSON();
  if (err instanceof Error) return { error: err.name, message: err.message };
  return { error: 'Error', message: String(err) };
}

/** What a decoder knows besides the body: the call's lock id, the HTTP status, the cause. */
export interface DecodeContext {
  /** The lock the request was about (the body does not repeat it). */
  lockId?: string;
  statusCode?: number;
  cause?: unknown;
}

/**
 * The error a wire body stands for: the lock outcome it names, rebuilt with its fields, or a
 * {@link LockServiceUnavailable} for anything else (an internal error, an unknown shape).
 *
 * @example throw decodeError(await response.json(), { lockId, statusCode: response.status });
 */
export function decodeError(
  body: unknown,
  context: DecodeContext = {},
): LockError | LockServiceUnavailable {
  const fields = asBody(body);
  const name = fields.error;
  if (typeof name === 'string' && Object.hasOwn(OUTCOMES, name)) {
    return OUTCOMES[name as OutcomeName](fields, context.lockId ?? '');
  }
  return fault(fields, context);
}

const asBody = (value: unknown): Body =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body) : {};

function fault(fields: Body, context: DecodeContext): LockServiceUnavailable {
  const described = typeof fields.error === 'string' ? `${fields.error}: ` : '';
  return new LockServiceUnavailable(
    `lock service failed: ${described}${text(fields.message, 'no details')}`,
    { cause: context.cause ?? fields, statusCode: context.statusCode },
  );
}

/**
 * The error a Lambda handler throws for `err`: the same error (class, name and fields), with
 * the JSON wire body as its message, because the Lambda runtime reports nothing of a thrown
 * error but its name (the error type Step Functions' Retry and Catch match) and its message.
 *
 * @example catch (err) { throw toFunctionError(err); }
 */
export function toFunctionError<E extends Error>(err: E): E {
  const wire = Object.assign(Object.create(Object.getPrototypeOf(err) as object) as E, err);
  Object.defineProperty(wire, 'message', {
    value: JSON.stringify(encodeError(err)),
    writable: true,
    configurable: true,
  });
  wire.stack = err.stack;
  return wire;
}

/** How Lambda reports a function error to the caller of `Invoke`. */
export interface FunctionErrorPayload {
  errorType?: unknown;
  errorMessage?: unknown;
}

/**
 * Decodes a function error (`X-Amz-Function-Error`) reported by `Lambda.invoke`: the JSON body
 * {@link toFunctionError} put in the message, or, for an error the runtime itself raised (a
 * timeout, an out-of-memory), a {@link LockServiceUnavailable} naming it.
 *
 * @example throw fromFunctionError(JSON.parse(payload), lockId);
 */
export function fromFunctionError(
  payload: FunctionErrorPayload,
  lockId: string,
): LockError | LockServiceUnavailable {
  const message = typeof payload.errorMessage === 'string' ? payload.errorMessage : '';
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    body = { error: payload.errorType, message };
  }
  return decodeError(body, { lockId, statusCode: 500, cause: payload });
}

/**
 * Decodes an HTTP error answer: a 4xx body naming a lock outcome is that outcome; a 5xx, or a
 * body that is not the API's, is a {@link LockServiceUnavailable} with the status.
 *
 * @example if (!response.ok) throw fromHttpError(response.status, await response.text(), lockId);
 */
export function fromHttpError(
  statusCode: number,
  bodyText: string,
  lockId: string,
): LockError | LockServiceUnavailable {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = { message: `the lock service answered ${statusCode} with a body that is not JSON` };
  }
  const context = { lockId, statusCode };
  // A 5xx is a fault whatever its body says.
  return statusCode >= 500 ? fault(asBody(body), context) : decodeError(body, context);
}
