import { describe, expect, test } from '@jest/globals';
import { ConfigError, readConfig } from '../../lambdas/service/config.js';

describe('readConfig', () => {
  test('applies the documented defaults', () => {
    expect(readConfig({ LOCK_TABLE_NAME: 'locks' })).toEqual({
      tableName: 'locks',
      defaultLeaseMs: 30_000,
      retentionMs: 3_600_000,
      maxHttpWaitMs: 25_000,
      serviceName: 'fenced-lock',
      metricsNamespace: 'FencedLock',
    });
  });

  test('reads every setting', () => {
    expect(
      readConfig({
        LOCK_TABLE_NAME: 'my-locks',
        DEFAULT_LEASE_MS: '5000',
        RETENTION_MS: '7200000',
        MAX_HTTP_WAIT_MS: '10000',
        DYNAMODB_ENDPOINT: 'http://localhost:8000',
        POWERTOOLS_SERVICE_NAME: 'locks-svc',
        POWERTOOLS_METRICS_NAMESPACE: 'Ns',
      }),
    ).toEqual({
      tableName: 'my-locks',
      defaultLeaseMs: 5_000,
      retentionMs: 7_200_000,
      maxHttpWaitMs: 10_000,
      dynamodbEndpoint: 'http://localhost:8000',
      serviceName: 'locks-svc',
      metricsNamespace: 'Ns',
    });
  });

  test.each([
    [{}, 'LOCK_TABLE_NAME', /is required/],
    [{ LOCK_TABLE_NAME: '  ' }, 'LOCK_TABLE_NAME', /is required/],
    [{ LOCK_TABLE_NAME: 'a' }, 'LOCK_TABLE_NAME', /table name/],
    [{ LOCK_TABLE_NAME: 'locks', DEFAULT_LEASE_MS: 'soon' }, 'DEFAULT_LEASE_MS', /whole number/],
    [{ LOCK_TABLE_NAME: 'locks', DEFAULT_LEASE_MS: '10' }, 'DEFAULT_LEASE_MS', /from 1000/],
    [{ LOCK_TABLE_NAME: 'locks', RETENTION_MS: '-1' }, 'RETENTION_MS', /whole number/],
    [{ LOCK_TABLE_NAME: 'locks', MAX_HTTP_WAIT_MS: '29000' }, 'MAX_HTTP_WAIT_MS', /to 28000/],
    [{ LOCK_TABLE_NAME: 'locks', MAX_HTTP_WAIT_MS: '1.5' }, 'MAX_HTTP_WAIT_MS', /whole number/],
    [
      { LOCK_TABLE_NAME: 'locks', DYNAMODB_ENDPOINT: 'localhost:8000' },
      'DYNAMODB_ENDPOINT',
      /http/,
    ],
  ])('%j fails naming %s', (env, variable, message) => {
    let error: unknown;
    try {
      readConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toMatch(new RegExp(`^${variable} `));
    expect((error as ConfigError).message).toMatch(message);
  });
});
