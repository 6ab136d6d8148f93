// One client OS process of the safety harness. It loops: acquire -> claim (fenced read) the
// register -> short random work -> fenced write of the register + 1 -> release, and appends
// every operation (invoke, completion, result, token) to its own history file. With
// `permits`, it loops on one permit of a semaphore instead: acquire -> hold -> release.
// Each acquire may wait a time drawn from the client's `waitMs` range (0: a try-lock, which
// pauses a little after a refusal, as a caller that retries later would). The progress
// control's squatter runs no workload: it only holds the lock's waiter slot (see squat.ts).
// Usage: node --import tsx safety/client.ts '<ClientConfig as JSON>'
import { createDocumentClient, FencedOut, LockHeld, LockManager } from '../lib/core/index.js';
import { localDynamoClient } from '../local/dynamodb-local.js';
import type { ClientConfig, FromClient, ToClient } from './client-config.js';
import { HistoryWriter, type CompleteLine, type OpKind } from './history.js';
import { httpLocks, libraryLocks, type SafetyGrant } from './lock-transports.js';
import { LostResponse, loseResponses } from './lost-response.js';
import { overcommitPermit } from './overcommit.js';
import { between, seededRandom } from './random.js';
import { Register, type RegisterRead } from './register.js';
import { squatWaiterSlot } from './squat.js';

const config = JSON.parse(process.argv[2] ?? '{}') as ClientConfig;
const random = seededRandom(config.seed);
const history = new HistoryWriter(config.historyFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const ddb = localDynamoClient(config.endpoint);
loseResponses(ddb, config.lostResponseRate, random);
const doc = createDocumentClient(ddb);
const locks =
  config.transport === 'http'
    ? httpLocks(config.httpUrl ?? '', config.lostResponseRate, random)
    : libraryLocks(
        new LockManager({
          tableName: config.locksTable,
          client: doc,
          clock: () => Date.now() + config.clockOffsetMs,
          backoffBaseMs: 20,
          backoffMaxMs: 200,
          random,
        }),
      );
const register = new Register(
  doc,
  { tableName: config.registerTable, id: config.registerId },
  !config.unfenced,
);

let armed = false;
let armedWait = false;
let started: () => void = () => {};
const start = new Promise<void>((resolve) => (started = resolve));
process.on('message', (message: ToClient) => {
  if (message.type === 'start') {
    config.stopAt = message.stopAt;
    started();
  } else {
    armed = message.type === 'arm';
    armedWait = message.type === 'arm-wait';
  }
});
const tell = (message: FromClient) => process.send?.(message);

history.write({
  ev: 'process',
  process: config.name,
  pid: process.pid,
  transport: config.transport,
  clockOffsetMs: config.clockOffsetMs,
});

let opCount = 0;
/** Runs one operation, recording its invocation and its completion as Jepsen's ok/fail/info. */
async function record<T>(
  f: OpKind,
  owner: string,
  fields: { token?: number; since?: number; permits?: number; waitMs?: number },
  call: () => Promise<T>,
  describe: (result: T) => Partial<CompleteLine>,
): Promise<{ result: 'ok'; value: T } | { result: 'fail' | 'info'; error: unknown }> {
  const id = `${config.name}:${++opCount}`;
  history.write({ ev: 'invoke', id, f, owner, at: Date.now(), ...fields });
  try {
    const value = await call();
    history.write({ ev: 'complete', id, at: Date.now(), result: 'ok', ...describe(value) });
    return { result: 'ok', value };
  } catch (error) {
    // A refusal certainly changed nothing; anything else may or may not have been applied.
    const refused = error instanceof LockHeld || error instanceof FencedOut;
    // The library reports a lost DynamoDB response as the fault it is, with the loss as cause.
    const lost = [error, (error as Error | undefined)?.cause].find(
      (e) => e instanceof LostResponse,
    );
    const result = refused ? 'fail' : 'info';
    history.write({
      ev: 'complete',
      id,
      at: Date.now(),
      result,
      error: error instanceof Error ? error.name : String(error),
      ...(lost ? { hidden: lost.hidden } : {}),
    });
    return { result, error };
  }
}

/** Gives up retrying an indeterminate step a while after the run's end. */
const retrying = () => Date.now() < config.stopAt + 5_000;
const pauseAfterError = () => sleep(between(random, 50, 150));
/** The overcommitting control makes one attempt, whatever its range says. */
const overcommitting = config.overcommit === true;
/** The semaphore's N on every permit operation, so the history says what was asked for. */
const permitsField = config.permits === undefined ? {} : { permits: config.permits };

/**
 * The negative control's broken acquire: an honest attempt, and when every permit is held it
 * writes itself in anyway, as a client that ignored the refusal and bypassed the limit would.
 */
async function overcommit(owner: string): Promise<SafetyGrant> {
  try {
    return await locks.acquire(config.lockId, owner, config.leaseMs, 0, config.permits);
  } catch (err) {
    if (!(err instanceof LockHeld)) throw err;
    const forged = await overcommitPermit(doc, {
      tableName: config.locksTable,
      lockId: config.lockId,
      owner,
      leaseMs: config.leaseMs,
    });
    if (!forged) throw err;
    return forged;
  }
}

const take = (owner: string, waitMs: number) =>
  config.overcommit
    ? overcommit(owner)
    : locks.acquire(config.lockId, owner, config.leaseMs, waitMs, config.permits);

/** Takes the lock, waiting up to `waitMs`; when armed for a waiter fault, says when it waits. */
async function takeReporting(owner: string, waitMs: number): Promise<SafetyGrant> {
  if (!armedWait || waitMs === 0) return take(owner, waitMs);
  armedWait = false;
  tell({ type: 'waiting', owner, waitMs });
  try {
    return await take(owner, waitMs);
  } finally {
    tell({ type: 'waited', owner });
  }
}

async function acquire(owner: string): Promise<SafetyGrant | undefined> {
  const since = Date.now();
  const waitMs = overcommitting ? 0 : between(random, config.waitMs[0], config.waitMs[1]);
  while (retrying()) {
    const outcome = await record(
      'acquire',
      owner,
      { since, waitMs, ...permitsField },
      () => takeReporting(owner, waitMs),
      (grant) => ({ token: grant.token, expiresAt: grant.expiresAt }),
    );
    if (outcome.result === 'ok') return outcome.value;
    if (outcome.result === 'fail') {
      // A refused try-lock comes back a little later, as a caller that polls would.
      if (waitMs === 0) await sleep(between(random, 20, 100));
      return undefined;
    }
    // Indeterminate: retry as the same owner, which gets the same grant back if it was written.
    await pauseAfterError();
  }
  return undefined;
}

async function claim(owner: string, token: number): Promise<RegisterRead | undefined> {
  while (retrying()) {
    const outcome = await record(
      'claim',
      owner,
      { token },
      () => register.claim(token),
      (seen) => ({ value: seen.value }),
    );
    if (outcome.result === 'ok') return outcome.value;
    if (outcome.result === 'fail') return undefined;
    await pauseAfterError(); // a claim is idempotent: retry it
  }
  return undefined;
}

async function release(owner: string, token: number): Promise<void> {
  for (let attempt = 0; attempt < 5 && retrying(); attempt++) {
    const outcome = await record(
      'release',
      owner,
      { token, ...permitsField },
      () => locks.release(config.lockId, owner, token, config.permits),
      (result) => ({ released: result.released }),
    );
    if (outcome.result !== 'info') return;
    await pauseAfterError(); // a retried release is harmless
  }
}

// All clients of a scenario start together, once every process has loaded.
tell({ type: 'ready' });
if (config.stopAt === 0) await start;

/** Works inside the section for a short random time, or longer when armed for a fault. */
async function work(owner: string, token: number): Promise<void> {
  let workMs = between(random, config.workMs[0], config.workMs[1]);
  if (armed) {
    // The orchestrator pauses or kills us during this (longer) piece of work.
    armed = false;
    workMs = config.armedWorkMs;
    tell({ type: 'claimed', owner, token });
  }
  await sleep(workMs);
}

/** The lock workload: the register is read and written back under the lock, fenced. */
async function lockIteration(owner: string): Promise<void> {
  const grant = await acquire(owner);
  if (!grant) return;
  const seen = await claim(owner, grant.token);
  if (seen) {
    await work(owner, grant.token);
    // Not retried: an indeterminate write stays indeterminate, and the checker resolves it
    // from the register's log.
    await record(
      'write',
      owner,
      { token: grant.token },
      () => register.write(grant.token, seen),
      () => ({}),
    );
  }
  await release(owner, grant.token);
}

/** The semaphore workload: what is checked is how many permits are held at once. */
async function permitIteration(owner: string): Promise<void> {
  const grant = await acquire(owner);
  if (!grant) return;
  await work(owner, grant.token);
  await release(owner, grant.token);
  // Otherwise the broken client mostly takes back the permit it just freed, honestly, before
  // the waiting clients do; once they hold every permit, its acquire goes past the limit.
  if (config.overcommit) await sleep(between(random, config.workMs[0], config.workMs[1]));
}

/** The squatter: keeps the waiter slot taken, beat after beat, never asking for the lock. */
async function squat(afterMs: number): Promise<void> {
  await sleep(afterMs);
  while (Date.now() < config.stopAt) {
    try {
      await squatWaiterSlot(doc, {
        tableName: config.locksTable,
        lockId: config.lockId,
        owner: `${config.name}:squatter`,
      });
    } catch {
      // DynamoDB unavailable: beat again next time.
    }
    // Well inside the slot's staleness, even on a loaded host.
    await sleep(50);
  }
}

if (config.squatAfterMs !== undefined) await squat(config.squatAfterMs);
for (
  let iteration = 1;
  config.squatAfterMs === undefined && Date.now() < config.stopAt;
  iteration++
) {
  const owner = `${config.name}:${iteration}`;
  await (config.permits === undefined ? lockIteration(owner) : permitIteration(owner));
}
ddb.destroy();
process.exit(0);
