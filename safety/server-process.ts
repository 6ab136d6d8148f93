// The local HTTP API in a process of its own, so faults hit it as they would a real service
// (its DynamoDB connection breaks when DynamoDB Local restarts, its clients see 5xx).
// Usage: node --import tsx safety/server-process.ts <locksTable> <dynamodbEndpoint>
// Prints one line, {"url": "..."}, once it listens; SIGTERM closes it.
import { startLocalServer } from '../local/server.js';

const [tableName, dynamodbEndpoint] = process.argv.slice(2);
const server = await startLocalServer({ tableName, dynamodbEndpoint, port: 0 });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
