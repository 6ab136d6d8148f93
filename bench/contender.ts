// One process of the cross-process contention scenarios, standing in for one Lambda: its own
// client, its own callers, nothing shared with the other processes but DynamoDB. Once loaded
// (and one uncontended cycle done, so its connection is warm) it prints "ready"; on a line
// `{"startAt":..,"endAt":..}` its callers loop on the lock from startAt until endAt; then it
// prints what each attempt saw as one JSON line (see `ContenderReport`) and idles until the
// bench kills it.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { type ContenderConfig, type ContenderReport, type Attempt, now } from './contention.js';
import { NotGranted, createSystem } from './lock-systems.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

const config = JSON.parse(process.argv[2] ?? '{}') as ContenderConfig;
const system = createSystem(config.key, config.system);
const warm = await system.acquire({
  lockId: `${config.lockId}-probe-${config.callers[0] ?? 'none'}`,
  owner: 'probe',
  leaseMs: config.leaseMs,
  wait: false,
});
await warm.release();

const input = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
const [line] = (await once(input, 'line')) as [string];
const { startAt, endAt } = JSON.parse(line) as { startAt: number; endAt: number };

const attempts: Attempt[] = [];
/** Attempts asked and not answered yet. */
const open = new Set<Attempt>();
let errors = 0;
let firstError: string | undefined;
const { workload } = config;

const caller = async (name: string) => {
  while (now() < endAt) {
    const tryLock = workload.kind === 'mixed' && Math.random() < workload.tryShare;
    const waitMs =
      workload.kind === 'mixed' && !tryLock
        ? 1 + Math.floor(Math.random() * workload.maxWaitMs)
        : undefined;
    const attempt: Attempt = {
      caller: name,
      mode: tryLock ? 'try' : 'wait',
      ...(waitMs === undefined ? {} : { waitMs }),
      askedAt: now(),
    };
    attempts.push(attempt);
    open.add(attempt);
    try {
      const held = await system.acquire({
        lockId: config.lockId,
        owner: name,
        leaseMs: config.leaseMs,
        wait: !tryLock,
        ...(waitMs === undefined ? {} : { waitMs }),
      });
      attempt.grantedAt = now();
      open.delete(attempt);
      await sleep(workload.holdMs);
      attempt.releasedAt = now();
      await held.release();
    } catch (err) {
      open.delete(attempt);
      attempt.refusedAt = now();
      if (!(err instanceof NotGranted)) {
        attempt.error = true;
        errors++;
        firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        if (errors > 100) return;
        await sleep(50); // a failing system must not turn into a spin
      }
    }
    if (workload.kind === 'mixed') await sleep(Math.random() * workload.pauseMs);
  }
};

await sleep(startAt - now());
const finished = new Set<string>();
for (const name of config.callers) void caller(name).finally(() => finished.add(name));
// Callers holding at the end finish their hold and release; those still waiting are reported
// as pending (their acquires are left to the kill).
await sleep(endAt - now());
const grace = now() + workload.holdMs + 3_000;
while (finished.size + open.size < config.callers.length && now() < grace) await sleep(10);
const report: ContenderReport = {
  attempts: attempts.filter((a) => !open.has(a)),
  pending: [...open].map((a) => ({ caller: a.caller, askedAt: a.askedAt })),
  errors,
  ...(firstError ? { firstError } : {}),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
setInterval(() => {}, 60_000);
