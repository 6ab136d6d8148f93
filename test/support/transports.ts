// The three ways a LockClient reaches the service, all against DynamoDB Local: the library
// straight on the table, the local HTTP API, and the real Lambda client calling the direct
// handler through a local Invoke endpoint.
import { LambdaClient } from '@aws-sdk/client-lambda';
import { createInvokeHandler } from '../../lambdas/direct/invoke.js';
import { readConfig } from '../../lambdas/service/config.js';
import { LockUseCase } from '../../lambdas/service/lock-use-case.js';
import { LockClient } from '../../lib/index.js';
import { startLocalLambda } from '../../local/lambda-endpoint.js';
import { startLocalServer } from '../../local/server.js';
import { documentClient, endpoint } from './dynamodb.js';

/** The transports, for `describe.each` (which runs before `beforeAll` starts them). */
export const TRANSPORT_NAMES = ['dynamodb', 'http', 'lambda'] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];

export interface Transports {
  /** A new client over the named transport. */
  client(name: TransportName): LockClient;
  /** Where the local HTTP API and the local Lambda Invoke endpoint listen. */
  urls: { http: string; lambda: string };
  close(): Promise<void>;
}

/** Starts the HTTP server and the Lambda endpoint over `tableName`; `close()` stops them. */
export async function startTransports(tableName: string): Promise<Transports> {
  const doc = documentClient();
  const server = await startLocalServer({ tableName, dynamodbEndpoint: endpoint(), port: 0 });
  const service = new LockUseCase(
    readConfig({ LOCK_TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint() }),
  );
  const lambda = await startLocalLambda({ 'lock-direct': createInvokeHandler(service) });
  const lambdaClient = new LambdaClient({
    endpoint: lambda.url,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const clients: Record<TransportName, () => LockClient> = {
    dynamodb: () => new LockClient({ transport: 'dynamodb', tableName, client: doc }),
    http: () => new LockClient({ transport: 'http', endpoint: server.url }),
    lambda: () =>
      new LockClient({ transport: 'lambda', functionName: 'lock-direct', client: lambdaClient }),
  };
  return {
    client: (name) => clients[name](),
    urls: { http: server.url, lambda: lambda.url },
    async close() {
      await server.close();
      await lambda.close();
      service.close();
      lambdaClient.destroy();
      doc.destroy();
    },
  };
}
