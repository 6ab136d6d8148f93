// A lock holder in its own process, for the dead-holder takeover: once loaded it says "ready",
// takes the lock when told "go" on stdin, reports when it asked, and then idles (no renewals)
// until the bench SIGKILLs it.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { type SystemKey, type SystemOptions, createSystem } from './lock-systems.js';

const config = JSON.parse(process.argv[2] ?? '{}') as {
  key: SystemKey;
  system: SystemOptions;
  lockId: string;
  leaseMs: number;
};
const system = createSystem(config.key, config.system);
const input = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
await once(input, 'line');
const askedAt = Date.now();
const held = await system.acquire({
  lockId: config.lockId,
  owner: 'doomed-holder',
  leaseMs: config.leaseMs,
  wait: false,
});
process.stdout.write(`${JSON.stringify({ askedAt, grantedAt: Date.now(), token: held.token })}\n`);
setInterval(() => {}, 60_000);
