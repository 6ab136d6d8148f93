// A user's Lambda handler module, run once as the runtime would: middy with the lock middleware
// from the built package, a 10 s lease, and a handler that returns at once (while the first
// renew is on the wire), throws, or is answered early by a later middleware. Prints the instant
// the invocation settled; the test measures how long the process lives after it.
import middy from '@middy/core';
import { LockClient } from '../../dist/index.js';
import { lock } from '../../dist/middy/index.js';

const [tableName, lockId, ending] = process.argv.slice(2);
// The endpoint, region and credentials come from the AWS_* environment, as for any SDK user.
const client = new LockClient({ transport: 'dynamodb', tableName });
let handler = middy(async (_event, context) => {
  if (ending === 'throws') throw new Error('handler failed');
  return `done with token ${context.lock.token}`;
}).use(lock({ client, lockId, leaseMs: 10_000 }));
if (ending === 'early') handler = handler.use({ before: async () => 'answered early' });

const deadline = Date.now() + 60_000;
const context = {
  awsRequestId: `exit-${ending}`,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};
const outcome = await handler({}, context).then(
  (result) => ({ result }),
  (err) => ({ error: err.message }),
);
process.stdout.write(JSON.stringify({ ...outcome, settledAt: Date.now() }));
