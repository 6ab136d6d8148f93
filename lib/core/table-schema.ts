/** The table schema every deployment shares: `createLockTable` and the CDK construct both use it. */
export const LOCK_TABLE_SCHEMA = {
  partitionKey: 'lockId',
  ttlAttribute: 'ttl',
} as const;
