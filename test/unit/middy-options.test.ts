import { LockManager, ValidationError } from '../../lib/index.js';
import { lock, type LockMiddlewareOptions } from '../../lib/middy/index.js';
import { lockIdFor, ownerFor } from '../../lib/middy/options.js';

// Never sends a request: every case here is refused before any would be.
const client = new LockManager({ tableName: 'locks' });
const context = { awsRequestId: 'request-1', getRemainingTimeInMillis: () => 10_000 };

/** The ValidationError `fn` throws (failing the test if it throws nothing or something else). */
function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

const options = (extra: object): LockMiddlewareOptions =>
  ({ client, lockId: 'jobs/1', ...extra }) as LockMiddlewareOptions;

describe('lock() options', () => {
  it.each([
    ['an unknown onHeld', { onHeld: 'retry' }, 'onHeld', /'throw', 'skip' or 'wait', got "retry"/],
    ['waitMs without onHeld wait', { waitMs: 1_000 }, 'waitMs', /only with onHeld: 'wait'/],
    ['waitMs with onHeld skip', { onHeld: 'skip', waitMs: 1_000 }, 'waitMs', /not 'skip'/],
    ["onHeld 'wait' without waitMs", { onHeld: 'wait' }, 'waitMs', /required/],
    ['a negative waitMs', { onHeld: 'wait', waitMs: -1 }, 'waitMs', /from 0 to 900000/],
    ['skipResponse without onHeld skip', { skipResponse: 'x' }, 'skipResponse', /only with/],
    ['a lease under a second', { leaseMs: 10 }, 'leaseMs', /from 1000/],
    ['a negative timeoutMarginMs', { timeoutMarginMs: -5 }, 'timeoutMarginMs', /from 0/],
    ['an owner that is not a function', { owner: 'me' }, 'owner', /function/],
    ['a logger without warn', { logger: { info() {}, debug() {}, error() {} } }, 'logger', /warn/],
    ['metrics without addMetric', { metrics: {} }, 'metrics', /addMetric/],
    ['a misspelt option', { leaseMS: 5_000 }, 'leaseMS', /unknown field "leaseMS"/],
    ['an empty fixed lockId', { lockId: '' }, 'lockId', /must not be empty/],
    ['a lockId that is neither string nor function', { lockId: 42 }, 'lockId', /string/],
    ['no client', { client: undefined }, 'client', /LockClient or a LockManager/],
    ['a client without release', { client: { acquire() {}, renew() {} } }, 'client', /release/],
  ])('refuses %s, naming the option', (_label, extra, field, message) => {
    const err = refusal(() => lock(options(extra)));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it('refuses options that are not an object', () => {
    expect(refusal(() => lock(undefined as unknown as LockMiddlewareOptions)).field).toBe(
      'options',
    );
  });

  it.each([
    ['a valid fixed id', { lockId: 'nightly' }],
    ["'skip' with a skipResponse", { onHeld: 'skip', skipResponse: { statusCode: 409 } }],
    ["'wait' with waitMs", { onHeld: 'wait', waitMs: 5_000 }],
    ['every option', { owner: () => 'me', leaseMs: 5_000, timeoutMarginMs: 0 }],
  ])('accepts %s', (_label, extra) => {
    expect(lock(options(extra))).toMatchObject({ name: 'fenced-lock' });
  });
});

describe('the lock id and owner of an invocation', () => {
  it.each([
    ['an empty string', ''],
    ['a number', 42],
    ['undefined', undefined],
    ['over 1,024 bytes', 'x'.repeat(1_025)],
  ])('refuses a lockId function answering %s, naming the lockId option', (_label, answer) => {
    const err = refusal(() => lockIdFor(() => answer as string, {}, context));
    expect(err.field).toBe('lockId');
    expect(err.message).toMatch(/the lockId function's answer is invalid/);
  });

  it('computes the lock id from the event', () => {
    expect(lockIdFor((event: { id: number }) => `jobs/${event.id}`, { id: 7 }, context)).toBe(
      'jobs/7',
    );
  });

  it('owns the lock as the request id by default, or as the owner function says', () => {
    expect(ownerFor(undefined, {}, context)).toBe('request-1');
    expect(ownerFor(() => 'worker-3', {}, context)).toBe('worker-3');
  });

  it('refuses to guess an owner when the context has no request id', () => {
    const err = refusal(() => ownerFor(undefined, {}, {}));
    expect(err.field).toBe('owner');
    expect(err.message).toMatch(/pass an owner option/);
  });

  it('refuses an owner function answering a non-string, naming the owner option', () => {
    expect(refusal(() => ownerFor(() => 7 as unknown as string, {}, context)).field).toBe('owner');
  });
});
