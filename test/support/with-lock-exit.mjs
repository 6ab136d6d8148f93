// A user's script: withLock through the built package, around a function that returns at once,
// or (with an owner, whose grant is renewed at once) just as that first renew is on the wire.
// Prints the instant withLock resolved; the test measures how long the process lives after it.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LockClient } from '../../dist/index.js';

const [tableName, lockId, owner] = process.argv.slice(2);
// The endpoint, region and credentials come from the AWS_* environment, as for any SDK user.
const ddb = new DynamoDBClient({});
let writes = 0;
let renewSent;
const renewOnTheWire = new Promise((resolve) => (renewSent = resolve));
ddb.middlewareStack.add(
  (next) => async (args) => {
    // The acquire is the first write; the second is the renew (or, with no renew, the release).
    if (++writes === 2) renewSent();
    return next(args);
  },
  { step: 'finalizeRequest', name: 'watchWrites' },
);
const client = new LockClient({
  transport: 'dynamodb',
  tableName,
  client: DynamoDBDocumentClient.from(ddb),
});
const result = await client.withLock(
  lockId,
  async () => {
    if (owner) await renewOnTheWire;
    return 'done';
  },
  { leaseMs: 10_000, ...(owner ? { owner } : {}) },
);
process.stdout.write(JSON.stringify({ result, resolvedAt: Date.now() }));
