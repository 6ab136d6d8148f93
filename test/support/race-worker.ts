// One OS process of the cross-process race: waits for a shared start instant, then fires
// its acquires at once and prints what it was granted as JSON.
import { LockHeld, LockManager } from '../../lib/core/index.js';
import { localDocumentClient } from '../../local/dynamodb-local.js';

const [endpoint, tableName, lockId, startAt, count, name] = process.argv.slice(2);
const locks = new LockManager({ tableName, client: localDocumentClient(endpoint) });
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const results = await Promise.allSettled(
  Array.from({ length: Number(count) }, (_, i) => locks.acquire(lockId, { owner: `${name}-${i}` })),
);
const grants = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
const unexpected = results.flatMap((r) =>
  r.status === 'rejected' && !(r.reason instanceof LockHeld) ? [String(r.reason)] : [],
);
process.stdout.write(
  JSON.stringify({ grants, refused: results.length - grants.length, unexpected }),
);
locks.client.destroy();
