// A semaphore-sequence fuzz: fast-check runs random sequences of acquire, renew, release, force
// release and the passing of time, with owners that are hostile strings (Object.prototype's
// names, long Unicode), against DynamoDB Local. After every step `get` must agree with a model
// of the permits, and every acquire must do what the `get` before it promised: a permit while
// `available` is above 0 (or the caller's own back), LockHeld when it is 0.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { type Grant, LockHeld, LockLost, LockManager } from '../../lib/index.js';
import { documentClient, freshLockTable } from '../support/dynamodb.js';

const RUNS = 150;
const SEED = Number(process.env.FC_SEED ?? 20);

const OWNERS = [
  'w1',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '__defineGetter__',
  'ä'.repeat(128), // 256 bytes
  '👩‍👩‍👧‍👦'.repeat(10),
];

type Step =
  | { kind: 'acquire'; owner: number; leaseMs: number; data: boolean }
  | { kind: 'renew'; owner: number; leaseMs: number | undefined; permits: boolean }
  | { kind: 'release'; owner: number; permits: boolean }
  | { kind: 'forceRelease' }
  | { kind: 'wait'; ms: number };

const owner = fc.integer({ min: 0, max: OWNERS.length - 1 });
const lease = fc.constantFrom(1_000, 2_000, 5_000);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('acquire' as const),
      owner,
      leaseMs: lease,
      data: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('renew' as const),
      owner,
      leaseMs: fc.option(lease, { nil: undefined }),
      permits: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('release' as const), owner, permits: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'forceRelease' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('wait' as const),
      ms: fc.constantFrom(500, 1_000, 2_500),
    }),
  },
);

let tableName: string;
const doc = documentClient();
let run = 0;

beforeAll(async () => {
  tableName = await freshLockTable('semaphore-fuzz');
});
afterAll(() => doc.destroy());

/** The unexpired permits as the model knows them, and the last grant each owner got. */
interface Model {
  held: Map<string, { token: number; expiresAt: number }>;
  grants: Map<string, Grant>;
  highest: number;
}

describe('semaphore sequences (fast-check)', () => {
  test(`${RUNS} random sequences: get agrees with the model and with what acquires do`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(step, { minLength: 5, maxLength: 30 }),
        async (permits, steps) => {
          const lockId = `fuzz-${++run}`;
          let now = Date.now();
          const locks = new LockManager({ tableName, client: doc, clock: () => now });
          const model: Model = { held: new Map(), grants: new Map(), highest: 0 };
          const prune = () => {
            for (const [who, permit] of model.held)
              if (permit.expiresAt <= now) model.held.delete(who);
          };
          for (const [index, action] of steps.entries()) {
            const where = `step ${index} ${JSON.stringify(action)}`;
            const before = await locks.get(lockId);
            const available = before.available ?? permits;
            switch (action.kind) {
              case 'acquire': {
                const who = OWNERS[action.owner];
                const mine = model.held.get(who);
                const outcome = await locks
                  .acquire(lockId, {
                    owner: who,
                    permits,
                    leaseMs: action.leaseMs,
                    ...(action.data ? { data: { who, n: index } } : {}),
                  })
                  .catch((e: unknown) => e);
                if (mine) {
                  expect({ where, token: (outcome as Grant).token }).toEqual({
                    where,
                    token: mine.token,
                  });
                } else if (available > 0) {
                  expect({ where, granted: (outcome as Grant).owner }).toEqual({
                    where,
                    granted: who,
                  });
                  const grant = outcome as Grant;
                  expect(grant.token).toBeGreaterThan(model.highest);
                  model.highest = grant.token;
                  model.held.set(who, { token: grant.token, expiresAt: grant.expiresAt });
                  model.grants.set(who, grant);
                } else {
                  expect({ where, refused: outcome instanceof LockHeld }).toEqual({
                    where,
                    refused: true,
                  });
                }
                break;
              }
              case 'renew': {
                const who = OWNERS[action.owner];
                const grant = model.grants.get(who);
                if (!grant) break;
                const outcome = await locks
                  .renew(lockId, {
                    owner: who,
                    token: grant.token,
                    ...(action.leaseMs === undefined ? {} : { leaseMs: action.leaseMs }),
                    ...(action.permits ? { permits } : {}),
                  })
                  .catch((e: unknown) => e);
                if (model.held.has(who)) {
                  expect({ where, renewed: (outcome as Grant).token }).toEqual({
                    where,
                    renewed: grant.token,
                  });
                }
                if (outcome instanceof LockLost) {
                  model.grants.delete(who);
                } else {
                  // A permit renewed just after its lease ended, before anyone replaced it, is kept.
                  const renewed = outcome as Grant;
                  expect({ where, token: renewed.token }).toEqual({ where, token: grant.token });
                  model.held.set(who, { token: renewed.token, expiresAt: renewed.expiresAt });
                }
                break;
              }
              case 'release': {
                const who = OWNERS[action.owner];
                const grant = model.grants.get(who);
                if (!grant) break;
                const { released } = await locks.release(lockId, {
                  owner: who,
                  token: grant.token,
                  ...(action.permits ? { permits } : {}),
                });
                if (model.held.has(who))
                  expect({ where, released }).toEqual({ where, released: true });
                model.held.delete(who);
                model.grants.delete(who);
                break;
              }
              case 'forceRelease': {
                const { released } = await locks.forceRelease(lockId);
                if (model.held.size > 0)
                  expect({ where, released }).toEqual({ where, released: true });
                // Every permit's token is stale now.
                if (released) model.highest += 1;
                model.held.clear();
                model.grants.clear();
                break;
              }
              case 'wait':
                now += action.ms;
                break;
            }
            prune();
            expect(model.held.size).toBeLessThanOrEqual(permits);
            const after = await locks.get(lockId);
            const shown = (after.holders ?? []).map((h) => [h.owner, h.token]).sort();
            const modelled = [...model.held].map(([who, p]) => [who, p.token]).sort();
            expect({ where, shown }).toEqual({ where, shown: modelled });
            if (after.permits !== undefined) {
              expect({ where, available: after.available }).toEqual({
                where,
                available: permits - model.held.size,
              });
            }
          }
        },
      ),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }, 120_000);
});
