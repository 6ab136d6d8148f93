import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type ApiHandler, createApiHandler } from '../../lambdas/http/api.js';
import {
  principalKey,
  readApiOperators,
  readCallerScopes,
} from '../../lambdas/http/caller-scopes.js';
import { readConfig } from '../../lambdas/service/config.js';
import { LockUseCase } from '../../lambdas/service/lock-use-case.js';
import { API_KINDS } from '../../lib/contract/http.js';
import { documentClient, freshLockTable } from '../support/dynamodb.js';
import { signedCall } from '../support/signed-api.js';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const doc = documentClient();
afterAll(() => doc.destroy());

const TEAM_A_ROLE = 'arn:aws:iam::111122223333:role/service-role/team-a';
// What API Gateway reports for a Lambda running as that role: a session of it.
const TEAM_A_CALLER = 'arn:aws:sts::111122223333:assumed-role/team-a/team-a-worker';
const TEAM_B_CALLER = 'arn:aws:sts::111122223333:assumed-role/team-b/team-b-worker';
const UNSCOPED_CALLER = 'arn:aws:sts::111122223333:assumed-role/ops/on-call';
// How the holder's owner is stored and shown to other callers: bound to its role.
const TEAM_B_HOLDER = 'aws:111122223333:role/team-b#team-b-holder';
// Team A's lead: scoped to team A, with force release named in its scoped grant.
const TEAM_A_LEAD = 'arn:aws:sts::111122223333:assumed-role/team-a-lead/s';
// An operator (grantOperator) that was also given a scope: the scope does not narrow it.
const OPERATOR = 'arn:aws:sts::111122223333:assumed-role/on-call/s';
const SCOPES = JSON.stringify([
  { principal: TEAM_A_ROLE, prefixes: ['team-a:'] },
  { principal: 'arn:aws:iam::111122223333:role/team-b', prefixes: ['team-b:'] },
  {
    principal: 'arn:aws:iam::111122223333:role/team-a-lead',
    prefixes: ['team-a:'],
    operations: ['get', 'forceRelease'],
  },
  { principal: 'arn:aws:iam::111122223333:role/on-call', prefixes: ['team-a:'] },
]);
const OPERATORS = JSON.stringify(['arn:aws:iam::111122223333:role/on-call']);

describe.each(API_KINDS)('API callers scoped by lock id prefix (%s events)', (kind) => {
  let tableName: string;
  let handler: ApiHandler;
  const id = (lockId: string) => encodeURIComponent(lockId);
  const call = (caller: string | undefined, method: string, url: string, body?: unknown) =>
    signedCall(handler, kind, caller, method, url, body);

  // Prefixes end in ':', not '/': the HTTP API splits an encoded '/' in a lock id before any
  // route sees it (docs/http-api-v2.md), and both kinds must run the same cases.
  const teamB = 'team-b:secret';
  let teamBToken: number;

  beforeAll(async () => {
    tableName = await freshLockTable(`api-scopes-${kind}`);
    const service = new LockUseCase(readConfig({ LOCK_TABLE_NAME: tableName }), {
      client: doc,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    handler = createApiHandler(service, {
      scopes: readCallerScopes({ LOCK_API_SCOPES: SCOPES }),
      operators: readApiOperators({ LOCK_API_OPERATORS: OPERATORS }),
    });
    const grant = await call(TEAM_B_CALLER, 'POST', `/locks/${id(teamB)}/acquire`, {
      owner: 'team-b-holder',
      leaseMs: 60_000,
      data: { note: 'team-b-private' },
    });
    expect(grant.status).toBe(200);
    teamBToken = grant.body.token as number;
  });

  test('a scoped caller uses the locks inside its prefixes', async () => {
    const acquired = await call(TEAM_A_CALLER, 'POST', `/locks/${id('team-a:job')}/acquire`, {
      owner: 'a1',
    });
    expect(acquired.status).toBe(200);
    const got = await call(TEAM_A_CALLER, 'GET', `/locks/${id('team-a:job')}`);
    expect(got.body).toMatchObject({ held: true, owner: 'a1' });
    const released = await call(TEAM_A_CALLER, 'POST', `/locks/${id('team-a:job')}/release`, {
      owner: 'a1',
      token: acquired.body.token,
    });
    expect(released.body).toEqual({ released: true });
  });

  test.each([
    ['GET', '', undefined],
    ['POST', '/acquire', { owner: 'team-b-holder' }],
    ['POST', '/renew', { owner: 'team-b-holder', token: 1, leaseMs: 43_200_000 }],
    ['POST', '/release', { owner: 'team-b-holder', token: 1 }],
  ])(
    "another team's lock: %s%s is 403 AccessDenied, naming neither its holder nor its data",
    async (method, suffix, body) => {
      const res = await call(TEAM_A_CALLER, method, `/locks/${id(teamB)}${suffix}`, body);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: 'AccessDenied', message: expect.any(String) });
      expect(res.raw).not.toContain('team-b-holder');
      expect(res.raw).not.toContain('team-b-private');
      expect(res.raw).not.toContain(String(teamBToken));
      const item = await doc.send(
        new GetCommand({ TableName: tableName, Key: { lockId: teamB }, ConsistentRead: true }),
      );
      expect(item.Item).toMatchObject({ owner: TEAM_B_HOLDER, token: teamBToken });
    },
  );

  test("a scoped worker's force release is 403 even inside its scope, whatever IAM let through", async () => {
    const lockId = 'team-a:evict-me';
    const held = await call(TEAM_A_CALLER, 'POST', `/locks/${id(lockId)}/acquire`, { owner: 'a1' });
    const res = await call(TEAM_A_CALLER, 'DELETE', `/locks/${id(lockId)}`);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'AccessDenied' });
    const item = await doc.send(
      new GetCommand({ TableName: tableName, Key: { lockId }, ConsistentRead: true }),
    );
    expect(item.Item).toMatchObject({ token: held.body.token, expiresAt: held.body.expiresAt });
    // ...nor may a scoped caller use an operation its grant does not name: the lead's grant
    // names get and force release only.
    const leadAcquire = await call(TEAM_A_LEAD, 'POST', `/locks/${id(lockId)}/acquire`, {
      owner: 'lead',
    });
    expect(leadAcquire.status).toBe(403);
  });

  test('a scoped grant naming force release evicts inside its scope only; an operator anywhere', async () => {
    const lockId = 'team-a:evicted';
    await call(TEAM_A_CALLER, 'POST', `/locks/${id(lockId)}/acquire`, { owner: 'a1' });
    expect(await call(TEAM_A_LEAD, 'DELETE', `/locks/${id(lockId)}`)).toMatchObject({
      status: 200,
      body: { released: true },
    });
    expect((await call(TEAM_A_LEAD, 'DELETE', `/locks/${id(teamB)}`)).status).toBe(403);
    // The operator, though also given team A's scope, acts on team B's lock; team B's holder
    // then takes it again, for the tests that follow.
    expect(await call(OPERATOR, 'DELETE', `/locks/${id(teamB)}`)).toMatchObject({
      status: 200,
      body: { released: true },
    });
    const again = await call(TEAM_B_CALLER, 'POST', `/locks/${id(teamB)}/acquire`, {
      owner: 'team-b-holder',
      leaseMs: 60_000,
      data: { note: 'team-b-private' },
    });
    expect(again.status).toBe(200);
    teamBToken = again.body.token as number;
  });

  test('a scoped caller lists only with a prefix in scope', async () => {
    expect((await call(TEAM_A_CALLER, 'GET', '/locks')).status).toBe(403);
    expect((await call(TEAM_A_CALLER, 'GET', `/locks?prefix=${id('team-b:')}`)).status).toBe(403);
    const mine = await call(TEAM_A_CALLER, 'GET', `/locks?prefix=${id('team-a:')}`);
    expect(mine.status).toBe(200);
    expect(mine.raw).not.toContain('team-b-holder');
  });

  test('a caller given no scope, and a request with no identity (the local server), are not scoped', async () => {
    for (const caller of [UNSCOPED_CALLER, undefined]) {
      const res = await call(caller, 'GET', `/locks/${id(teamB)}`);
      expect(res.status).toBe(200);
      // Another caller sees the holder's owner with the holder's role.
      expect(res.body).toMatchObject({ held: true, owner: TEAM_B_HOLDER });
    }
    // The holder sees its own owner as it sent it.
    const own = await call(TEAM_B_CALLER, 'GET', `/locks/${id(teamB)}`);
    expect(own.body).toMatchObject({ held: true, owner: 'team-b-holder', token: teamBToken });
  });

  test('bad input is still a 400 naming the field, before the scope is checked', async () => {
    const res = await call(TEAM_A_CALLER, 'POST', `/locks/${id('team-a:x')}/acquire`, {
      owner: 'a1',
      leaseMs: 5,
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('leaseMs');
  });
});

describe('LOCK_API_SCOPES and principals', () => {
  test('a session of a role is that role, whatever its path; users and others are themselves', () => {
    expect(principalKey(TEAM_A_CALLER)).toBe(principalKey(TEAM_A_ROLE));
    expect(principalKey(TEAM_B_CALLER)).not.toBe(principalKey(TEAM_A_ROLE));
    expect(principalKey('arn:aws:sts::999999999999:assumed-role/team-a/x')).not.toBe(
      principalKey(TEAM_A_ROLE),
    );
    expect(principalKey('arn:aws:iam::1:user/ops/alice')).toBe(
      principalKey('arn:aws:iam::1:user/alice'),
    );
  });

  test.each(['not json', '["arn"', '{"a":1}', '[""]', '[1]'])(
    'a malformed value %s fails the cold start naming LOCK_API_OPERATORS',
    (value) => {
      expect(() => readApiOperators({ LOCK_API_OPERATORS: value })).toThrow(/^LOCK_API_OPERATORS/);
    },
  );

  test.each([
    'not json',
    '{"principal":"x"}',
    '[{"principal":"x","prefixes":[""]}]',
    '[null]',
    '[{"principal":"x","prefixes":["a"],"operations":["evict"]}]',
  ])('a malformed value %s fails the cold start naming LOCK_API_SCOPES', (value) => {
    expect(() => readCallerScopes({ LOCK_API_SCOPES: value })).toThrow(/^LOCK_API_SCOPES/);
  });
});
