import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Where a DynamoDB client connects. */
export interface DynamoDbClientOptions {
  /**
   * A DynamoDB endpoint other than AWS's, e.g. DynamoDB Local. Unless the environment names
   * credentials, it gets fixed dummy ones and region `AWS_REGION` or `local`, so nothing
   * searches the default credential chain for (or ever reaches) real AWS.
   * @default the AWS endpoint of the default configuration (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, ...)
   */
  endpoint?: string;
}

/**
 * The low-level client every part of the package builds, from one rule.
 *
 * @example const ddb = createDynamoClient({ endpoint: 'http://127.0.0.1:8000' });
 */
export function createDynamoClient({ endpoint }: DynamoDbClientOptions = {}): DynamoDBClient {
  if (endpoint === undefined) return new DynamoDBClient({});
  const local = process.env.AWS_ACCESS_KEY_ID
    ? {}
    : { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  return new DynamoDBClient({ endpoint, region: process.env.AWS_REGION ?? 'local', ...local });
}

/**
 * A DocumentClient over `client`, with the marshalling the lock core relies on (absent
 * optional fields are dropped, not refused).
 *
 * @example const doc = createDocumentClient(createDynamoClient());
 */
export function createDocumentClient(
  client: DynamoDBClient = createDynamoClient(),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
