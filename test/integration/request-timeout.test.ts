// A DynamoDB (or lock API) that accepts connections and never answers: every call still ends,
// within its wait plus the request timeout, with LockServiceUnavailable naming the timeout.
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import {
  createDocumentClient,
  createDynamoClient,
  LockClient,
  LockManager,
  LockServiceUnavailable,
} from '../../lib/index.js';
import { LOCKCTL } from '../support/lockctl.js';

let server: Server;
let silent: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  // Accepts every connection, reads what it is sent, and never writes a byte back.
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  silent = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const TIMEOUT_MS = 800;
/** Scheduling slack on a shared machine: the bound checked is the timeout plus this. */
const SLACK_MS = 1_500;

/** Runs `call`, expects LockServiceUnavailable naming the timeout, returns how long it took. */
async function timedFailure(call: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  const err = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  const elapsed = Date.now() - started;
  expect(err).toBeInstanceOf(LockServiceUnavailable);
  expect((err as Error).message).toContain(`did not answer within`);
  return elapsed;
}

const silentDoc = () => createDocumentClient(createDynamoClient({ endpoint: silent }));

describe.each([
  [
    'LockManager',
    () =>
      new LockManager({ tableName: 'locks', client: silentDoc(), requestTimeoutMs: TIMEOUT_MS }),
  ],
  [
    "LockClient with transport 'dynamodb'",
    () =>
      new LockClient({
        transport: 'dynamodb',
        tableName: 'locks',
        client: silentDoc(),
        requestTimeoutMs: TIMEOUT_MS,
      }),
  ],
])('%s against a DynamoDB that never answers', (_name, make) => {
  const grant = { owner: 'me', token: 5 };

  it('acquire without a wait ends within the timeout', async () => {
    const elapsed = await timedFailure(() => make().acquire('t-1', { owner: 'me' }));
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  });

  it('acquire with a wait ends within the wait plus the timeout', async () => {
    const waitMs = 2_000;
    const elapsed = await timedFailure(() => make().acquire('t-2', { owner: 'me', waitMs }));
    expect(elapsed).toBeLessThan(waitMs + TIMEOUT_MS + SLACK_MS);
  });

  it('a semaphore acquire ends within the wait plus the timeout', async () => {
    const waitMs = 1_000;
    const elapsed = await timedFailure(() =>
      make().acquire('t-3', { owner: 'me', waitMs, permits: 3 }),
    );
    expect(elapsed).toBeLessThan(waitMs + TIMEOUT_MS + SLACK_MS);
  });

  it('renew, release and get end within the timeout', async () => {
    const client = make();
    for (const call of [
      () => client.renew('t-4', grant),
      () => client.release('t-4', grant),
      () => client.get('t-4'),
      () => client.forceRelease('t-4'),
    ]) {
      expect(await timedFailure(call)).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    }
  });
});

it('the default timeout is 3 s', async () => {
  const locks = new LockManager({ tableName: 'locks', client: silentDoc() });
  const elapsed = await timedFailure(() => locks.get('t-default'));
  expect(elapsed).toBeGreaterThanOrEqual(2_950);
  expect(elapsed).toBeLessThan(3_000 + SLACK_MS);
});

it('leaves an injected client unchanged, and validates the timeout', () => {
  const doc = silentDoc();
  const ownSend = doc.send;
  const locks = new LockManager({ tableName: 'locks', client: doc, requestTimeoutMs: 100 });
  expect(locks.client).not.toBe(doc);
  expect(doc.send).toBe(ownSend);
  expect(() => new LockManager({ tableName: 'locks', client: doc, requestTimeoutMs: 0 })).toThrow(
    expect.objectContaining({ name: 'ValidationError', field: 'requestTimeoutMs' }),
  );
});

it("fenced reads and writes end within the client's timeout", async () => {
  const client = new LockClient({
    transport: 'http',
    endpoint: silent,
    resourceClient: silentDoc(),
    requestTimeoutMs: TIMEOUT_MS,
  });
  const target = { tableName: 'items', key: { id: 'x' }, token: 1 };
  expect(await timedFailure(() => client.fencedWrite({ ...target, set: { a: 1 } }))).toBeLessThan(
    TIMEOUT_MS + SLACK_MS,
  );
  expect(await timedFailure(() => client.fencedRead(target))).toBeLessThan(TIMEOUT_MS + SLACK_MS);
});

describe('LockClient over HTTP against an API that never answers', () => {
  const client = () =>
    new LockClient({ transport: 'http', endpoint: silent, requestTimeoutMs: TIMEOUT_MS });

  it('renew, release and get end within the timeout', async () => {
    const c = client();
    for (const call of [
      () => c.renew('h-1', { owner: 'me', token: 5 }),
      () => c.release('h-1', { owner: 'me', token: 5 }),
      () => c.get('h-1'),
    ]) {
      expect(await timedFailure(call)).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    }
  });

  it('acquire with a wait ends within the wait plus the timeout', async () => {
    const waitMs = 1_500;
    const elapsed = await timedFailure(() => client().acquire('h-2', { owner: 'me', waitMs }));
    // The request asked the service to wait: its timeout allows for that wait.
    expect(elapsed).toBeGreaterThanOrEqual(waitMs + TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(waitMs + TIMEOUT_MS + SLACK_MS);
  });
});

/** Runs the built lockctl in its own process against the silent server. */
function lockctl(args: string[]) {
  const started = Date.now();
  const child = spawn(process.execPath, [LOCKCTL, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise<{ code: number | null; stderr: string; elapsed: number }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr, elapsed: Date.now() - started })),
  );
}

describe('lockctl against a DynamoDB or an API that never answers', () => {
  // Built when the test runs: the server's port is known only after beforeAll.
  const table = () => ['--table', 'locks', '--dynamodb-endpoint', silent];
  const api = () => ['--endpoint', silent];

  it.each([
    ['get', 'get', table, [], 1_000],
    ['acquire', 'acquire', table, [], 1_000],
    ['acquire --wait 2s', 'acquire', table, ['--wait', '2s'], 3_000],
    ['get over HTTP', 'get', api, [], 1_000],
  ] as const)('%s exits 69 within its bound', async (_name, verb, where, extra, boundMs) => {
    const args = [verb, 'c-1', ...where(), '--timeout', '1s', ...extra];
    const { code, stderr, elapsed } = await lockctl(args);
    expect(code).toBe(69);
    expect(stderr).toContain('did not answer within 1000 ms');
    // A new process's start (loading the SDK) comes on top of the request's bound.
    expect(elapsed).toBeLessThan(boundMs + SLACK_MS + 2_000);
  });

  it('refuses a timeout that is not a duration', async () => {
    const { code, stderr } = await lockctl(['get', 'c-5', ...table(), '--timeout', 'soon']);
    expect(code).toBe(64);
    expect(stderr).toContain('--timeout');
  });
});
