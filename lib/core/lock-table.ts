import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCK_TABLE_SCHEMA } from './table-schema.js';

/**
 * Creates the locks table (partition key `lockId`, TTL on `ttl`, on-demand) for DynamoDB
 * Local, tests and local use, and waits until it is active. Safe to call when it exists.
 * In AWS, deploy the CDK stack instead.
 *
 * @example
 * await createLockTable(new DynamoDBClient({ endpoint: 'http://localhost:8000' }), 'locks');
 */
export async function createLockTable(
  client: DynamoDBClient | DynamoDBDocumentClient,
  tableName: string,
  { timeoutMs = 60_000 }: { timeoutMs?: number } = {},
): Promise<void> {
  // Both clients send plain DynamoDB commands unchanged; only their typings differ.
  const ddb = client as DynamoDBClient;
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
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become active`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const { TimeToLiveDescription } = await ddb.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  if (TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: LOCK_TABLE_SCHEMA.ttlAttribute, Enabled: true },
      }),
    );
  }
}
