import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  type TableDescription,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from './errors.js';
import { LOCK_TABLE_SCHEMA } from './table-schema.js';

/** What {@link createLockTable} found. */
export interface LockTableResult {
  /** False when the table already existed with the lock table's key and TTL attribute. */
  created: boolean;
}

/**
 * Creates the locks table (partition key `lockId`, TTL on `ttl`, on-demand), as `LockService`
 * defines it, for DynamoDB Local, tests and local use, and waits until it is active. When the
 * table exists with that key (and no other TTL attribute) it only turns TTL on if it is off;
 * a table of another shape is refused with a `ValidationError` (field `tableName`) and left
 * unchanged. In AWS, deploy the CDK stack instead.
 *
 * @example
 * await createLockTable(new DynamoDBClient({ endpoint: 'http://localhost:8000' }), 'locks');
 */
export async function createLockTable(
  client: DynamoDBClient | DynamoDBDocumentClient,
  tableName: string,
  { timeoutMs = 60_000 }: { timeoutMs?: number } = {},
): Promise<LockTableResult> {
  // Both clients send plain DynamoDB commands unchanged; only their typings differ.
  const ddb = client as DynamoDBClient;
  let created = true;
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: LOCK_TABLE_SCHEMA.partitionKey, AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: LOCK_TABLE_SCHEMA.partitionKey, KeyType: 'HASH' }],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
    created = false;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    if (!created) refuseOtherKey(tableName, Table);
    if (Table?.TableStatus === 'ACTIVE') break;
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become active`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const { TimeToLiveDescription: ttl } = await ddb.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  const ttlOn = ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING';
  if (ttlOn && ttl?.AttributeName !== LOCK_TABLE_SCHEMA.ttlAttribute) {
    throw new ValidationError(
      'tableName',
      `table "${tableName}" is not a lock table: its TTL attribute is "${ttl?.AttributeName}", a lock table's is "${LOCK_TABLE_SCHEMA.ttlAttribute}"`,
    );
  }
  if (!ttlOn) {
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: LOCK_TABLE_SCHEMA.ttlAttribute, Enabled: true },
      }),
    );
  }
  return { created };
}

/** An existing table must be keyed by the string `lockId` alone, or the lock cannot use it. */
function refuseOtherKey(tableName: string, table: TableDescription | undefined): void {
  const types = new Map(
    (table?.AttributeDefinitions ?? []).map((d) => [d.AttributeName, d.AttributeType]),
  );
  const key = (table?.KeySchema ?? []).map(
    (k) => `${k.AttributeName} (${types.get(k.AttributeName) ?? '?'}, ${k.KeyType})`,
  );
  const wanted = `${LOCK_TABLE_SCHEMA.partitionKey} (S, HASH)`;
  if (key.length === 1 && key[0] === wanted) return;
  throw new ValidationError(
    'tableName',
    `table "${tableName}" is not a lock table: its key is ${key.join(' + ') || 'unknown'}, a lock table's is ${wanted}`,
  );
}
