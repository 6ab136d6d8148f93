import { HELP } from '../../lib/cli/lockctl.js';
import { LockOperation } from '../../lib/cdk/lock-service.js';
import {
  fieldNames,
  OPERATION_NAMES,
  OPERATIONS,
  parseLockRequest,
  requestFields,
} from '../../lib/contract/operations.js';
import { ValidationError } from '../../lib/core/errors.js';

it("the construct's LockOperation enum is the contract's operations", () => {
  expect(Object.values(LockOperation).sort()).toEqual([...OPERATION_NAMES].sort());
});

it('lockctl offers a command for every operation, with every field as a flag', () => {
  for (const operation of OPERATION_NAMES) {
    const usage = HELP.split('\n').find((line) =>
      line.startsWith(`  lockctl ${OPERATIONS[operation].command} LOCKID`),
    );
    expect(usage).toBeDefined();
    for (const field of Object.values(OPERATIONS[operation].fields)) {
      expect(usage).toContain(
        `--${field.flag.name}${field.flag.placeholder ? ` ${field.flag.placeholder}` : ''}`,
      );
    }
  }
});

describe('parseLockRequest', () => {
  it('keeps the fields given, checked, and leaves the optional ones out', () => {
    expect(parseLockRequest('acquire', 'a', { owner: 'o', leaseMs: 2_000 })).toEqual({
      action: 'acquire',
      lockId: 'a',
      options: { owner: 'o', leaseMs: 2_000 },
    });
  });

  it.each([
    ['acquire', {}, 'owner'],
    ['renew', { owner: 'o' }, 'token'],
    ['release', { token: 1 }, 'owner'],
    ['acquire', { owner: 'o', leaseMs: 10 }, 'leaseMs'],
    ['acquire', { owner: 'o', data: [1] }, 'data'],
    ['renew', { owner: 'o', token: -1 }, 'token'],
  ] as const)('%s with %j is refused naming %s', (operation, input, field) => {
    expect(() => parseLockRequest(operation, 'a', input)).toThrow(ValidationError);
    try {
      parseLockRequest(operation, 'a', input);
    } catch (err) {
      expect((err as ValidationError).field).toBe(field);
    }
  });

  it('applies the edge limit to waitMs', () => {
    expect(() =>
      parseLockRequest('acquire', 'a', { owner: 'o', waitMs: 5 }, { maxWaitMs: 4 }),
    ).toThrow(/waitMs must be from 0 to 4/);
  });
});

it('requestFields sends an operation only its own fields', () => {
  const grant = { lockId: 'a', owner: 'o', token: 7, expiresAt: 1, leaseMs: 5_000 };
  expect(requestFields('renew', grant)).toEqual({ owner: 'o', token: 7, leaseMs: 5_000 });
  expect(requestFields('release', grant)).toEqual({ owner: 'o', token: 7 });
  expect(requestFields('get', grant)).toEqual({});
  expect(fieldNames('acquire')).toEqual([
    'owner',
    'leaseMs',
    'waitMs',
    'data',
    'permits',
    'trackOwner',
  ]);
  const permit = { ...grant, permits: 3 };
  expect(requestFields('release', permit)).toEqual({ owner: 'o', token: 7, permits: 3 });
});
