import { LIMITS, LockManager } from '../../lib/core/index.js';
import {
  parseData,
  parseLeaseMs,
  parseLockId,
  parseObject,
  parseOwner,
  parseToken,
  parseWaitMs,
} from '../../lib/core/validation.js';
import { fieldOf } from '../support/errors.js';

describe('lockId', () => {
  it('accepts any Unicode up to 1024 bytes of UTF-8', () => {
    expect(parseLockId('orders/42')).toBe('orders/42');
    expect(parseLockId('é'.repeat(512))).toHaveLength(512);
    expect(parseLockId('🔒 ключ 鎖')).toBe('🔒 ключ 鎖');
  });
  it.each([
    ['empty', ''],
    ['a number', 42],
    ['missing', undefined],
    ['null', null],
    ['1025 bytes', 'a'.repeat(1025)],
    ['513 two-byte characters', 'é'.repeat(513)],
    ['a lone surrogate', 'a\ud800b'],
  ])('refuses %s', (_label, value) => {
    expect(fieldOf(() => parseLockId(value))).toBe('lockId');
  });
});

describe('owner', () => {
  it('accepts up to 256 bytes', () => {
    expect(parseOwner('x'.repeat(256))).toHaveLength(256);
  });
  it.each([[''], ['x'.repeat(257)], [{}], [7]])('refuses %j', (value) => {
    expect(fieldOf(() => parseOwner(value))).toBe('owner');
  });
});

describe('leaseMs', () => {
  it('defaults when absent and accepts the bounds', () => {
    expect(parseLeaseMs(undefined, 30_000)).toBe(30_000);
    expect(parseLeaseMs(1_000, 30_000)).toBe(1_000);
    expect(parseLeaseMs(43_200_000, 30_000)).toBe(43_200_000);
  });
  it.each([[999], [43_200_001], [1500.5], ['5000'], [null], [-1], [Number.NaN], [Infinity]])(
    'refuses %p',
    (value) => {
      expect(fieldOf(() => parseLeaseMs(value, 30_000))).toBe('leaseMs');
    },
  );
});

describe('waitMs', () => {
  it('defaults to a single attempt', () => {
    expect(parseWaitMs(undefined)).toBe(0);
    expect(parseWaitMs(900_000)).toBe(900_000);
  });
  it.each([[-1], [900_001], [0.5], [true]])('refuses %p', (value) => {
    expect(fieldOf(() => parseWaitMs(value))).toBe('waitMs');
  });
  it('can be capped lower by the caller', () => {
    expect(fieldOf(() => parseWaitMs(20_000, 10_000))).toBe('waitMs');
  });
});

describe('token', () => {
  it('accepts positive safe integers', () => {
    expect(parseToken(1)).toBe(1);
    expect(parseToken(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
  });
  it.each([[0], [-5], [1.5], [Number.MAX_SAFE_INTEGER + 2], ['12'], [undefined]])(
    'refuses %p',
    (value) => {
      expect(fieldOf(() => parseToken(value))).toBe('token');
    },
  );
});

describe('data', () => {
  it('keeps a small JSON object and is optional', () => {
    expect(parseData({ job: 'nightly', n: 1 })).toEqual({ job: 'nightly', n: 1 });
    expect(parseData(undefined)).toBeUndefined();
  });
  it.each([
    ['an array', [1]],
    ['a string', 'x'],
    ['null', null],
    ['over 4 KB', { blob: 'x'.repeat(LIMITS.dataMaxBytes) }],
  ])('refuses %s', (_label, value) => {
    expect(fieldOf(() => parseData(value))).toBe('data');
  });
  it('refuses a value that cannot be serialized', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(fieldOf(() => parseData(cyclic))).toBe('data');
  });
});

describe('objects', () => {
  it('names an unknown field instead of ignoring it', () => {
    expect(fieldOf(() => parseObject({ owner: 'a', leaseMS: 5 }, ['owner', 'leaseMs']))).toBe(
      'leaseMS',
    );
  });
  it('refuses non-objects', () => {
    expect(fieldOf(() => parseObject([], ['owner']))).toBe('body');
  });
});

describe('LockManager options', () => {
  it('requires a table name', () => {
    expect(fieldOf(() => new LockManager({ tableName: '' }))).toBe('tableName');
  });
  it('documents its defaults', () => {
    const manager = new LockManager({ tableName: 'locks' });
    expect(manager.defaultLeaseMs).toBe(30_000);
    expect(manager.retentionMs).toBe(3_600_000);
    manager.client.destroy();
  });
  it('validates every option it is given', () => {
    expect(fieldOf(() => new LockManager({ tableName: 't', defaultLeaseMs: 10 }))).toBe(
      'defaultLeaseMs',
    );
    expect(fieldOf(() => new LockManager({ tableName: 't', retentionMs: -1 }))).toBe('retentionMs');
    expect(
      fieldOf(() => new LockManager({ tableName: 't', backoffBaseMs: 100, backoffMaxMs: 10 })),
    ).toBe('backoffMaxMs');
  });
  it('refuses bad input before sending anything', async () => {
    const manager = new LockManager({ tableName: 'locks' });
    await expect(manager.acquire('', { owner: 'a' })).rejects.toMatchObject({ field: 'lockId' });
    await expect(manager.acquire('l', { owner: 'a', leaseMs: 5 })).rejects.toMatchObject({
      field: 'leaseMs',
    });
    await expect(manager.renew('l', { owner: 'a', token: 0 })).rejects.toMatchObject({
      field: 'token',
    });
    await expect(manager.release('l', { owner: '', token: 1 })).rejects.toMatchObject({
      field: 'owner',
    });
    manager.client.destroy();
  });
});
