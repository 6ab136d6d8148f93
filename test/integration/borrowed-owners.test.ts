// The adversarial probe of issue 17, repeated on every way in with the workers' grant only
// (acquire, renew, release, get; no force release): learn a holder's owner and token from a 409
// or `get`, then take its grant back, release it, stretch its lease to 12 h, or fill another
// owner's cleanup registry. Each step is refused, and the holder keeps its lock. Through the API
// owners are bound to the caller's IAM identity; through a workers' direct function, whose
// callers carry none, others' owners are shown only as digests, and executions' owners and
// `trackOwner` belong to the sections' function.
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import type { Context } from 'aws-lambda';
import { type ApiHandler, createApiHandler } from '../../lambdas/http/api.js';
import { readCallerScopes } from '../../lambdas/http/caller-scopes.js';
import {
  createInvokeHandler,
  type InvokeHandler,
  readInvokeHandlerOptions,
} from '../../lambdas/direct/invoke.js';
import { readConfig } from '../../lambdas/service/config.js';
import { LockUseCase } from '../../lambdas/service/lock-use-case.js';
import { API_KINDS, type ApiKind } from '../../lib/contract/http.js';
import { LIMITS } from '../../lib/core/limits.js';
import { hiddenOwner } from '../../lib/contract/owner-views.js';
import { RESERVED_LOCK_ID_PREFIX } from '../../lib/core/validation.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { documentClient, freshLockTable } from '../support/dynamodb.js';
import { signedCall } from '../support/signed-api.js';
import { functionEnvironment, runOwner, synthesizeSection } from '../support/local-section.js';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const doc = documentClient();
afterAll(() => doc.destroy());

let tableName: string;
const service = () =>
  new LockUseCase(readConfig({ LOCK_TABLE_NAME: tableName }), {
    client: doc,
    logger: new Logger({ logLevel: 'SILENT' }),
  });

beforeAll(async () => {
  tableName = await freshLockTable('borrowed-owners');
});

const item = async (lockId: string) =>
  (await doc.send(new GetCommand({ TableName: tableName, Key: { lockId }, ConsistentRead: true })))
    .Item;
/** The cleanup registry of `owner` (see lib/core/owner-registry.ts). */
const registry = (owner: string) => item(`${RESERVED_LOCK_ID_PREFIX}owner:${owner}`);

// The holder and the prober are both workers of team A, as different IAM roles.
const HOLDER = 'arn:aws:sts::111122223333:assumed-role/team-a-orders/i-0holder';
const PROBER = 'arn:aws:sts::111122223333:assumed-role/team-a-reports/i-0prober';
const SCOPES = JSON.stringify(
  ['team-a-orders', 'team-a-reports'].map((role) => ({
    principal: `arn:aws:iam::111122223333:role/${role}`,
    prefixes: ['team-a:'],
  })),
);
const VICTIM_EXECUTION = runOwner('victim');

describe.each(API_KINDS)('the probe through the API (%s events)', (kind: ApiKind) => {
  let handler: ApiHandler;
  let lockId: string;
  let grant: { owner: string; token: number; expiresAt: number };
  let n = 0;

  const call = (caller: string, method: string, path: string, body?: unknown) =>
    signedCall(handler, kind, caller, method, path, body);
  const at = (suffix = '') => `/locks/${encodeURIComponent(lockId)}${suffix}`;

  beforeAll(() => {
    handler = createApiHandler(service(), {
      scopes: readCallerScopes({ LOCK_API_SCOPES: SCOPES }),
    });
  });

  beforeEach(async () => {
    lockId = `team-a:orders-${kind}-${n++}`;
    const res = await call(HOLDER, 'POST', at('/acquire'), { owner: 'holder-1', leaseMs: 30_000 });
    expect(res.status).toBe(200);
    grant = res.body as typeof grant;
    expect(grant.owner).toBe('holder-1');
  });

  /** What the prober learns: the holder's owner as shown to others, and the token. */
  async function learn() {
    const refusal = await call(PROBER, 'POST', at('/acquire'), { owner: 'prober-1' });
    expect(refusal.status).toBe(409);
    const state = await call(PROBER, 'GET', at());
    expect(state.body).toMatchObject({ held: true, owner: refusal.body.owner, token: grant.token });
    return { shownOwner: state.body.owner as string, token: state.body.token as number };
  }

  async function expectHolderUnharmed() {
    const own = await call(HOLDER, 'GET', at());
    expect(own.body).toMatchObject({ held: true, owner: 'holder-1', token: grant.token });
    expect(own.body.expiresAt).toBeLessThanOrEqual(grant.expiresAt);
    const renewed = await call(HOLDER, 'POST', at('/renew'), {
      owner: 'holder-1',
      token: grant.token,
    });
    expect(renewed.status).toBe(200);
  }

  test("learns the holder's owner (with its role) and token, but gets no grant back under it", async () => {
    const { shownOwner } = await learn();
    expect(shownOwner).toBe('aws:111122223333:role/team-a-orders#holder-1');
    for (const owner of ['holder-1', shownOwner]) {
      const retried = await call(PROBER, 'POST', at('/acquire'), { owner });
      expect(retried.status).toBe(409);
      expect(retried.body).toMatchObject({ error: 'LockHeld' });
      expect(JSON.stringify(retried.body)).not.toContain(`"token"`);
    }
    await expectHolderUnharmed();
  });

  test('cannot release the lock as its holder', async () => {
    const { shownOwner, token } = await learn();
    for (const owner of ['holder-1', shownOwner]) {
      const res = await call(PROBER, 'POST', at('/release'), { owner, token });
      expect(res).toMatchObject({ status: 200, body: { released: false } });
    }
    await expectHolderUnharmed();
  });

  test('cannot stretch the holder lease to 12 h', async () => {
    const { shownOwner, token } = await learn();
    for (const owner of ['holder-1', shownOwner]) {
      const res = await call(PROBER, 'POST', at('/renew'), {
        owner,
        token,
        leaseMs: LIMITS.leaseMsMax,
      });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ error: 'LockLost' });
    }
    expect((await item(lockId))?.expiresAt).toBe(grant.expiresAt);
    await expectHolderUnharmed();
  });

  test('an owner too long once bound to the caller is a 400 naming owner, and changes nothing', async () => {
    const qualifier = 'aws:111122223333:role/team-a-reports#';
    const room = LIMITS.ownerMaxBytes - qualifier.length;
    const free = `/locks/${encodeURIComponent(`team-a:long-${kind}`)}/acquire`;
    const refused = await call(PROBER, 'POST', free, { owner: 'x'.repeat(room + 1) });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'ValidationError', field: 'owner' });
    expect(refused.body.message).toContain(`at most ${room} bytes`);
    expect(await item(`team-a:long-${kind}`)).toBeUndefined();
    const granted = await call(PROBER, 'POST', free, { owner: 'x'.repeat(room) });
    expect(granted.body).toMatchObject({ owner: 'x'.repeat(room) });
  });

  test("cannot register anything under an execution's owner (its cleanup registry)", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await call(
        PROBER,
        'POST',
        `/locks/${encodeURIComponent(`team-a:fill-${i}`)}/acquire`,
        {
          owner: VICTIM_EXECUTION,
          trackOwner: true,
        },
      );
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'AccessDenied' });
      expect(await item(`team-a:fill-${i}`)).toBeUndefined();
    }
    expect(await registry(VICTIM_EXECUTION)).toBeUndefined();
  });
});

describe('the probe through direct invocation', () => {
  /** Each function's handler, built from the environment the construct gives that function. */
  let workers: InvokeHandler;
  let sections: InvokeHandler;
  const context = (): Context => lambdaContext('probe-direct', 60_000, 'req-probe');

  /** The error a Lambda invocation returns: its type and message (the JSON error body). */
  async function refusal(handler: InvokeHandler, event: Record<string, unknown>) {
    const err = await handler(event, context()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    if (err === undefined) throw new Error(`expected ${JSON.stringify(event)} to be refused`);
    return { errorType: err.name, errorMessage: err.message };
  }

  beforeAll(() => {
    const { template, lockFunctionEnv } = synthesizeSection();
    // The service's own direct function, as a LockService deploys it for workers.
    const workersEnv = functionEnvironment(template, 'LocksDirectFunction');
    expect(workersEnv.LOCK_CALLERS).toBe('workers');
    expect(lockFunctionEnv.LOCK_CALLERS).toBe('sections');
    workers = createInvokeHandler(service(), readInvokeHandlerOptions(workersEnv));
    sections = createInvokeHandler(service(), readInvokeHandlerOptions(lockFunctionEnv));
  });

  test("a worker sees others' owners only as digests: a 409, get and the listing", async () => {
    const holder = `lock-client-${randomUUID()}`;
    const lockId = 'workers:probe';
    const grant = (await workers(
      { action: 'acquire', lockId, owner: holder, leaseMs: 30_000 },
      context(),
    )) as { owner: string; token: number; expiresAt: number };
    expect(grant.owner).toBe(holder);
    const held = await refusal(workers, { action: 'acquire', lockId, owner: 'prober-1' });
    expect(held.errorType).toBe('LockHeld');
    const state = await workers({ action: 'get', lockId }, context());
    const page = await workers({ action: 'list', prefix: 'workers:' }, context());
    for (const seen of [held.errorMessage, JSON.stringify(state), JSON.stringify(page)]) {
      expect(seen).not.toContain(holder);
      expect(seen).toContain(hiddenOwner(holder));
    }
    // The digest is no owner: the prober can neither release nor renew under it.
    const release = { action: 'release', lockId, owner: hiddenOwner(holder), token: grant.token };
    expect(await workers(release, context())).toEqual({ released: false });
    const renew = { ...release, action: 'renew', leaseMs: LIMITS.leaseMsMax };
    expect((await refusal(workers, renew)).errorType).toBe('LockLost');
    expect(await item(lockId)).toMatchObject({ owner: holder, expiresAt: grant.expiresAt });
    // The operators' function (no callers set) shows the owner itself.
    const operators = createInvokeHandler(service());
    expect(await operators({ action: 'get', lockId }, context())).toMatchObject({ owner: holder });
  });

  test("a worker is refused acting as a section's execution, whose owner it can guess", async () => {
    const lockId = 'sfn:probe';
    const held = (await sections(
      { action: 'acquire', lockId, owner: VICTIM_EXECUTION, trackOwner: true, leaseMs: 30_000 },
      context(),
    )) as { token: number; expiresAt: number };
    expect(await workers({ action: 'get', lockId }, context())).toMatchObject({
      owner: hiddenOwner(VICTIM_EXECUTION),
      token: held.token,
    });
    for (const event of [
      { action: 'acquire', owner: VICTIM_EXECUTION },
      { action: 'release', owner: VICTIM_EXECUTION, token: held.token },
      { action: 'renew', owner: VICTIM_EXECUTION, token: held.token, leaseMs: LIMITS.leaseMsMax },
    ]) {
      const { errorType, errorMessage } = await refusal(workers, { ...event, lockId });
      expect(errorType).toBe('AccessDenied');
      expect(JSON.parse(errorMessage)).toEqual({
        error: 'AccessDenied',
        message: expect.any(String),
      });
    }
    expect(await item(lockId)).toMatchObject({
      owner: VICTIM_EXECUTION,
      token: held.token,
      expiresAt: held.expiresAt,
    });
    // The section still releases its own grant.
    expect(
      await sections(
        { action: 'release', lockId, owner: VICTIM_EXECUTION, token: held.token },
        context(),
      ),
    ).toEqual({ released: true });
  });

  test("a worker is refused acting as an API caller's grant, under its bound owner", async () => {
    const lockId = 'api:probe';
    const api = createApiHandler(service());
    const path = `/locks/${encodeURIComponent(lockId)}`;
    const held = await signedCall(api, 'rest', HOLDER, 'POST', `${path}/acquire`, { owner: 'h1' });
    expect(held.status).toBe(200);
    const bound = 'aws:111122223333:role/team-a-orders#h1';
    expect(await item(lockId)).toMatchObject({ owner: bound });
    const token = held.body.token as number;
    for (const event of [
      { action: 'acquire', owner: bound },
      { action: 'release', owner: bound, token },
      { action: 'renew', owner: bound, token, leaseMs: LIMITS.leaseMsMax },
    ]) {
      expect((await refusal(workers, { ...event, lockId })).errorType).toBe('AccessDenied');
    }
    expect(await item(lockId)).toMatchObject({ owner: bound, token });
  });

  test("a worker cannot fill an execution's cleanup registry, nor register its own", async () => {
    const victim = runOwner('registry-victim');
    for (const owner of [victim, 'worker-1']) {
      const { errorType } = await refusal(workers, {
        action: 'acquire',
        lockId: `fill:${owner.length}`,
        owner,
        trackOwner: true,
      });
      expect(errorType).toBe('AccessDenied');
      expect(await registry(owner)).toBeUndefined();
    }
    // The execution itself, through the sections' function, registers as before.
    await sections(
      { action: 'acquire', lockId: 'fill:own', owner: victim, trackOwner: true },
      context(),
    );
    expect((await registry(victim))?.locks).toEqual(new Set(['fill:own']));
  });

  test("the sections' function acts for executions only", async () => {
    const { errorType } = await refusal(sections, {
      action: 'acquire',
      lockId: 'sfn:worker-owner',
      owner: 'worker-1',
    });
    expect(errorType).toBe('AccessDenied');
    expect(await item('sfn:worker-owner')).toBeUndefined();
  });
});
