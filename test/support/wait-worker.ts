// One OS process of callers that wait for a lock, for the waiting tests: a waiter that a test
// kills while it waits, or a worker of a mixed workload. Prints one JSON line per event.
import { LockHeld, LockManager } from '../../lib/core/index.js';
import { localDocumentClient } from '../../local/dynamodb-local.js';

const [endpoint, tableName, lockId, mode, name, countArg, durationArg] = process.argv.slice(2);
const locks = new LockManager({ tableName, client: localDocumentClient(endpoint!) });
const say = (event: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ at: Date.now(), ...event })}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (mode === 'wait') {
  // `count` callers each waiting a minute: the test kills this process while they wait.
  const count = Number(countArg);
  const acquires = Array.from({ length: count }, (_, i) =>
    locks.acquire(lockId!, { owner: `${name}-${i}`, waitMs: 60_000 }),
  );
  say({ event: 'waiting', count });
  await Promise.allSettled(acquires);
} else if (mode === 'mixed') {
  // `count` callers for `duration` ms: 30% try once, the rest wait 1 to 3,000 ms; holders
  // keep the lock 20 ms. Every grant and refusal is reported.
  const count = Number(countArg);
  const until = Date.now() + Number(durationArg);
  const caller = async (c: number) => {
    for (let n = 0; Date.now() < until; n++) {
      const waitMs = Math.random() < 0.3 ? 0 : 1 + Math.floor(Math.random() * 3_000);
      try {
        const grant = await locks.acquire(lockId!, { owner: `${name}-${c}-${n}`, waitMs });
        say({ event: 'granted', token: grant.token });
        await sleep(20);
        await locks.release(lockId!, grant);
      } catch (err) {
        if (!(err instanceof LockHeld)) {
          say({ event: 'error', error: String(err) });
          return;
        }
        say({ event: 'refused', waitMs });
        await sleep(Math.random() * 50);
      }
    }
  };
  await Promise.all(Array.from({ length: count }, (_, c) => caller(c)));
  say({ event: 'done' });
}
locks.client.destroy();
