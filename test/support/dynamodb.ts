import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createLockTable } from '../../lib/core/index.js';
import {
  createItemTable,
  localDocumentClient,
  localDynamoClient,
} from '../../local/dynamodb-local.js';

/** The DynamoDB Local endpoint the global setup started. */
export function endpoint(): string {
  const value = process.env.DYNAMODB_ENDPOINT;
  if (!value) throw new Error('DYNAMODB_ENDPOINT is not set: run through the integration project');
  return value;
}

export const dynamoClient = () => localDynamoClient(endpoint());
export const documentClient = () => localDocumentClient(endpoint());

/** A fresh locks table per test file keeps files independent while sharing one server. */
export async function freshLockTable(prefix = 'locks'): Promise<string> {
  const tableName = `${prefix}-${randomUUID()}`;
  const ddb = dynamoClient();
  await createLockTable(ddb, tableName);
  ddb.destroy();
  return tableName;
}

/** A fresh table keyed by `id`, standing for the user's own protected items. */
export async function freshItemTable(prefix = 'items'): Promise<string> {
  const tableName = `${prefix}-${randomUUID()}`;
  const ddb = dynamoClient();
  await createItemTable(ddb, tableName);
  ddb.destroy();
  return tableName;
}

/**
 * Counts the requests a client sends over the wire, by operation. The middleware sits after the
 * SDK's retry step, so a retried request counts each time it is sent.
 */
export function countRequests(
  client: DynamoDBClient | { middlewareStack: DynamoDBClient['middlewareStack'] },
) {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'requestCounter' },
  );
  return {
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    reset: () => counts.clear(),
  };
}
