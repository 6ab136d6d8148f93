import {
  decodeError,
  encodeError,
  fromFunctionError,
  fromHttpError,
  OUTCOME_NAMES,
  toFunctionError,
} from '../../lib/contract/error-codec.js';
import {
  AccessDenied,
  FencedOut,
  LockError,
  LockHeld,
  LockLost,
  LockServiceUnavailable,
  ValidationError,
} from '../../lib/core/errors.js';
import { main } from '../../lib/cli/lockctl.js';
import { errorResponse } from '../../lambdas/http/http-errors.js';
import { InternalError } from '../../lambdas/service/internal-error.js';

const LOCK_ID = 'orders/42 ключ';

/** One instance of every lock outcome, with every field set. */
const OUTCOMES: LockError[] = [
  new LockHeld(LOCK_ID, { owner: 'exec-1', expiresAt: 1_764_130_030_000, retryAfterMs: 12_345 }),
  new LockHeld(LOCK_ID, { owner: '', expiresAt: 1_764_130_030_000, retryAfterMs: 0, waiting: 3 }),
  new LockLost(LOCK_ID),
  new LockLost(LOCK_ID, 'lease of "orders/42 ключ" ended before it could be renewed'),
  new ValidationError('leaseMs', 'leaseMs must be from 1000 to 43200000, got 10'),
  new FencedOut(1_764_130_000_007, 1_764_130_000_009),
  new AccessDenied('forceRelease is kept for operators: invoke the operator function'),
  new FencedOut(1_764_130_000_007, Number.NaN),
];

/** What the Lambda runtime reports of a thrown error: its name and message, nothing else. */
const throughLambdaRuntime = (err: Error) =>
  JSON.parse(JSON.stringify({ errorType: err.name, errorMessage: err.message })) as {
    errorType: string;
    errorMessage: string;
  };

/** The three wires, each as encoder then decoder, with only text in between. */
const WIRES: [string, (err: LockError) => Error][] = [
  [
    'HTTP',
    (err) => {
      const { statusCode, body } = errorResponse(err, 'req-1');
      return fromHttpError(statusCode, body, LOCK_ID);
    },
  ],
  ['Lambda', (err) => fromFunctionError(throughLambdaRuntime(toFunctionError(err)), LOCK_ID)],
  [
    'lockctl --json',
    (err) => decodeError(JSON.parse(JSON.stringify(encodeError(err))), { lockId: LOCK_ID }),
  ],
];

it('has a sample of every lock outcome the codec knows', () => {
  expect(new Set(OUTCOMES.map((err) => err.name))).toEqual(new Set(OUTCOME_NAMES));
});

describe.each(WIRES)('over %s', (_wire, roundTrip) => {
  it.each(OUTCOMES.map((err) => [err.name, err] as const))(
    '%s comes back as the same class with the same fields',
    (_name, err) => {
      const back = roundTrip(err);
      expect(back).toBeInstanceOf(err.constructor);
      expect(back).toBeInstanceOf(LockError);
      expect(back.name).toBe(err.name);
      expect(back.message).toBe(err.message);
      expect({ ...back }).toEqual({ ...err });
      expect((back as LockError).toJSON()).toEqual(err.toJSON());
    },
  );
});

it('HTTP answers each outcome with its status, LockHeld with Retry-After', () => {
  const statuses = OUTCOMES.map((err) => [err.name, errorResponse(err, 'r').statusCode]);
  expect(Object.fromEntries(statuses)).toEqual({
    LockHeld: 409,
    LockLost: 409,
    ValidationError: 400,
    AccessDenied: 403,
    FencedOut: 409,
  });
  expect(errorResponse(OUTCOMES[0], 'r').headers).toMatchObject({ 'retry-after': '13' });
});

describe('faults', () => {
  it('an internal error is a LockServiceUnavailable on every wire, never a LockError', () => {
    const http = errorResponse(new Error('DynamoDB exploded: table locks-prod'), 'req-9');
    expect(http.statusCode).toBe(500);
    expect(http.body).not.toContain('locks-prod');
    const decodedHttp = fromHttpError(http.statusCode, http.body, LOCK_ID);
    const lambda = toFunctionError(new InternalError('req-9'));
    const decodedLambda = fromFunctionError(throughLambdaRuntime(lambda), LOCK_ID);
    for (const fault of [decodedHttp, decodedLambda]) {
      expect(fault).toBeInstanceOf(LockServiceUnavailable);
      expect(fault).not.toBeInstanceOf(LockError);
      expect(fault.message).toContain('req-9');
    }
    expect(decodedHttp).toMatchObject({ statusCode: 500 });
  });

  it('a 5xx is a fault whatever its body says, and a body that is not JSON too', () => {
    const fake = JSON.stringify(OUTCOMES[0].toJSON());
    expect(fromHttpError(502, fake, LOCK_ID)).toBeInstanceOf(LockServiceUnavailable);
    const notJson = fromHttpError(403, '<html>Forbidden</html>', LOCK_ID);
    expect(notJson).toBeInstanceOf(LockServiceUnavailable);
    expect(notJson).toMatchObject({ statusCode: 403 });
  });

  it('an error the Lambda runtime raised itself (a timeout) is a fault naming its type', () => {
    const fault = fromFunctionError(
      { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 60.00 seconds' },
      LOCK_ID,
    );
    expect(fault).toBeInstanceOf(LockServiceUnavailable);
    expect(fault.message).toContain('Sandbox.Timedout: Task timed out');
  });

  it('a LockServiceUnavailable keeps its status through the codec', () => {
    const fault = new LockServiceUnavailable('no route to host', { statusCode: 503 });
    expect(decodeError(encodeError(fault), { statusCode: 503 })).toMatchObject({
      statusCode: 503,
      name: 'LockServiceUnavailable',
    });
  });
});

describe('the Lambda form', () => {
  it('keeps the class, name and fields in process, with the JSON body as the message', () => {
    const invalid = OUTCOMES.find((err) => err instanceof ValidationError) as ValidationError;
    const thrown = toFunctionError(invalid);
    expect(thrown).toBeInstanceOf(ValidationError);
    expect(thrown.name).toBe('ValidationError');
    expect(thrown.field).toBe('leaseMs');
    expect(JSON.parse(thrown.message)).toEqual(invalid.toJSON());
  });
});

describe('lockctl --json', () => {
  it('prints a refused input as the wire body, decodable to the same ValidationError', async () => {
    let printed = '';
    const sink = { write: (chunk: string) => ((printed += chunk), true) };
    const code = await main(
      ['acquire', 'x', '--lease', 'soon', '--json'],
      sink as never,
      { write: () => true } as never,
    );
    expect(code).toBe(64);
    const decoded = decodeError(JSON.parse(printed));
    expect(decoded).toBeInstanceOf(ValidationError);
    expect(decoded).toMatchObject({ field: '--lease' });
  });
});
