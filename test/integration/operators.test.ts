// Operators' views through every transport: list (library, HTTP API of both kinds, direct
// invocation), lockctl ls and lockctl watch.
import { LockManager, type LockState } from '../../lib/index.js';
import { startLocalServer, type LocalServer } from '../../local/server.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';
import { spawnLockctl } from '../support/lockctl.js';
import { startTransports, TRANSPORT_NAMES, type Transports } from '../support/transports.js';

let tableName: string;
let transports: Transports;
let httpV2: LocalServer;
const doc = documentClient();
let locks: LockManager;

// Ids a shell or a table could stumble on: spaces, quotes, a slash, beyond the BMP.
const IDS = ['ops/a b', 'ops/"q"', 'ops/🔒/1', 'ops/free', 'ops/sem', 'other/x'];

beforeAll(async () => {
  tableName = await freshLockTable();
  transports = await startTransports(tableName);
  httpV2 = await startLocalServer({
    tableName,
    dynamodbEndpoint: endpoint(),
    port: 0,
    api: 'http',
  });
  locks = new LockManager({ tableName, client: doc });
  await locks.acquire('ops/a b', { owner: 'alice', leaseMs: 600_000, trackOwner: true });
  await locks.acquire('ops/"q"', { owner: 'bob "the" builder', leaseMs: 600_000 });
  await locks.acquire('ops/🔒/1', { owner: 'carol', leaseMs: 600_000 });
  const free = await locks.acquire('ops/free', { owner: 'dave' });
  await locks.release('ops/free', free);
  await locks.acquire('ops/sem', { owner: 'p1', permits: 3, leaseMs: 600_000 });
  await locks.acquire('ops/sem', { owner: 'p2', permits: 3, leaseMs: 600_000 });
  await locks.acquire('other/x', { owner: 'erin', leaseMs: 600_000 });
}, 60_000);
afterAll(async () => {
  await transports.close();
  await httpV2.close();
  doc.destroy();
});

/** Every page, with a page size of 2 so the cursor travels through the transport. */
async function listAll(
  list: (options: object) => Promise<{ locks: LockState[]; cursor?: string }>,
  prefix?: string,
) {
  const seen: LockState[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({
      limit: 2,
      ...(prefix ? { prefix } : {}),
      ...(cursor ? { cursor } : {}),
    });
    expect(page.locks.length).toBeLessThanOrEqual(2);
    seen.push(...page.locks);
    cursor = page.cursor;
  } while (cursor);
  return seen;
}

describe.each(TRANSPORT_NAMES)('list through %s', (name) => {
  it('pages through every lock under a prefix, as get shows each', async () => {
    const client = transports.client(name);
    const seen = await listAll((options) => client.list(options), 'ops/');
    expect(seen.map((s) => s.lockId).sort()).toEqual(
      IDS.filter((id) => id.startsWith('ops/')).sort(),
    );
    for (const state of seen) expect(state).toEqual(await locks.get(state.lockId));
    const all = await listAll((options) => client.list(options));
    expect(all.map((s) => s.lockId).sort()).toEqual([...IDS].sort());
  });

  it('refuses bad input naming the field', async () => {
    const client = transports.client(name);
    await expect(client.list({ limit: 0 })).rejects.toMatchObject({ field: 'limit' });
    await expect(client.list({ cursor: 'nope' })).rejects.toMatchObject({ field: 'cursor' });
    await expect(client.list({ prefix: '\u0000owner:' })).rejects.toMatchObject({
      field: 'prefix',
    });
  });
});

describe('GET /locks on the HTTP API (v2 events)', () => {
  it('pages, and refuses unknown or bad parameters with a 400 naming them', async () => {
    const get = async (query: string) => {
      const response = await fetch(`${httpV2.url}/locks${query}`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const first = await get('?prefix=ops%2F&limit=2');
    expect(first.status).toBe(200);
    expect((first.body.locks as LockState[]).length).toBeLessThanOrEqual(2);
    expect(await get('?limit=ten')).toMatchObject({ status: 400, body: { field: 'limit' } });
    expect(await get('?owner=x')).toMatchObject({ status: 400, body: { field: 'owner' } });
    const post = await fetch(`${httpV2.url}/locks`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    // Hostile parameter names are refused by name, never used as keys.
    for (const name of ['__proto__', 'constructor', 'toString']) {
      expect(await get(`?${name}=1`)).toMatchObject({ status: 400, body: { field: name } });
    }
    expect(await get('?prefix=%00owner%3A')).toMatchObject({
      status: 400,
      body: { field: 'prefix' },
    });
  });
});

describe('list by direct invocation', () => {
  it('takes only its own fields', async () => {
    const { createInvokeHandler } = await import('../../lambdas/direct/invoke.js');
    const { LockUseCase } = await import('../../lambdas/service/lock-use-case.js');
    const { readConfig } = await import('../../lambdas/service/config.js');
    const service = new LockUseCase(
      readConfig({ LOCK_TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint() }),
    );
    const handler = createInvokeHandler(service);
    const context = {} as Parameters<typeof handler>[1];
    try {
      const page = await handler({ action: 'list', prefix: 'other/', limit: 10 }, context);
      expect(page).toMatchObject({ locks: [{ lockId: 'other/x', owner: 'erin' }] });
      for (const [event, field] of [
        [{ action: 'list', lockId: 'ops/free' }, 'lockId'],
        [{ action: 'list', limit: '10' }, 'limit'],
        [{ action: 'list', __proto__: { limit: 1 } }, undefined],
      ] as const) {
        const outcome = handler(event, context);
        if (field === undefined) await expect(outcome).resolves.toHaveProperty('locks');
        else await expect(outcome).rejects.toThrow(new RegExp(`"field":"${field}"`));
      }
    } finally {
      service.close();
    }
  });
});

describe.each(TRANSPORT_NAMES)('lockctl through %s', (name) => {
  const where = (): { args: string[]; env: NodeJS.ProcessEnv } => {
    if (name === 'dynamodb')
      return { args: ['--table', tableName, '--dynamodb-endpoint', endpoint()], env: {} };
    if (name === 'http') return { args: ['--endpoint', transports.urls.http], env: {} };
    return {
      args: ['--function', 'lock-direct'],
      env: {
        AWS_ENDPOINT_URL_LAMBDA: transports.urls.lambda,
        AWS_REGION: 'local',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
    };
  };
  const lockctl = (args: string[]) => {
    const { args: target, env } = where();
    return spawnLockctl([...args, ...target], env);
  };

  it('ls shows held locks in a table: holder, token, expiry, held for, transitions, waiting; n/N for a semaphore', async () => {
    const { code, stdout, stderr } = await lockctl(['ls', 'ops/']).done;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^ID\s+HOLDER\s+TOKEN\s+EXPIRES IN\s+HELD FOR\s+TRANSITIONS\s+WAITING$/,
    );
    const rows = lines.slice(1);
    expect(rows).toHaveLength(4); // the free lock is not shown, nor other/x
    const row = (id: string) => rows.find((line) => line.startsWith(id)) ?? '';
    expect(row('"ops/a b"')).toMatch(/^"ops\/a b"\s+alice\s+\d+\s+(9|10)m\S*\s+\d+\S*\s+0\s+0$/);
    expect(row('"ops/\\"q\\""')).toContain('"bob \\"the\\" builder"');
    expect(row('ops/🔒/1')).toContain('carol');
    expect(row('ops/sem')).toMatch(/2\/3 permits/);
  });

  it('ls --all --json prints every lock, free ones too, one JSON object a line', async () => {
    const { code, stdout } = await lockctl(['ls', 'ops/', '--all', '--json']).done;
    expect(code).toBe(0);
    const states = stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as LockState);
    expect(states.map((s) => s.lockId).sort()).toEqual(
      IDS.filter((id) => id.startsWith('ops/')).sort(),
    );
    expect(states.find((s) => s.lockId === 'ops/free')).toMatchObject({
      held: false,
      transitions: 0,
    });
  });

  it('watch follows one lock, a line per change, for --count reads', async () => {
    const lockId = `watch/${name}`;
    const grant = await locks.acquire(lockId, { owner: 'first', leaseMs: 60_000 });
    const watching = lockctl(['watch', lockId, '--interval', '250ms', '--count', '12', '--json']);
    await new Promise((resolve) => setTimeout(resolve, 800));
    await locks.release(lockId, grant);
    await locks.acquire(lockId, { owner: 'second', leaseMs: 60_000 });
    const { code, stdout, stderr } = await watching.done;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const seen = stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as LockState & { at: number });
    expect(seen[0]).toMatchObject({ lockId, held: true, owner: 'first', transitions: 0 });
    expect(seen.at(-1)).toMatchObject({ held: true, owner: 'second', transitions: 1 });
  }, 20_000);

  it('watch runs until Ctrl-C (SIGINT), then exits 0', async () => {
    const watching = lockctl(['watch', 'ops/a b', '--interval', '250ms']);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    watching.child.kill('SIGINT');
    const { code, stdout } = await watching.done;
    expect(code).toBe(0);
    expect(stdout).toMatch(/held by alice, token \d+, expires in/);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1); // nothing changed: one line
  }, 20_000);
});
