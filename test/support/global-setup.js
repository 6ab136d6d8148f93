// Plain JS because jest loads global setup outside its ESM transform; tsx loads the TypeScript.
import { tsImport } from 'tsx/esm/api';

/** One in-memory DynamoDB Local for the integration suite; workers find it through the env. */
export default async function globalSetup() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { startDynamoDbLocal } = await tsImport('../../local/dynamodb-local.ts', import.meta.url);
  const db = await startDynamoDbLocal();
  globalThis.__dynamoDbLocal = db;
  process.env.DYNAMODB_ENDPOINT = db.endpoint;
}
