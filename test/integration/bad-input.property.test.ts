// Bad input at scale: fast-check sends generated requests (random JSON, wrong types, boundary
// numbers, odd Unicode, huge strings, near-valid requests with one field broken) to the local
// HTTP API and to the direct-invocation handler. None may get a 5xx or an unhandled error, and
// no refused request may change any lock: the whole table is compared with a snapshot taken
// after the last accepted change.
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { parseObject } from '../../lib/core/validation.js';
import { parseInvokeEvent } from '../../lambdas/direct/invoke.js';
import { fieldNames, type OperationName, parseLockRequest } from '../../lib/contract/operations.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { type LocalServer, startLocalServer } from '../../local/server.js';
import { documentClient, endpoint, freshLockTable } from '../support/dynamodb.js';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
// A valid acquire of a held lock may wait: keep any wait short so 10,000 requests stay fast.
process.env.MAX_HTTP_WAIT_MS = '50';

const RUNS = { http: 10_000, direct: 10_000 };
/** fast-check replays the same requests unless `FC_SEED` asks for others. */
const SEED = Number(process.env.FC_SEED ?? 5);
/** Held by "holder" for 10 minutes. */
const HELD = 'prop-held';
/** Released: only its token counter remains. */
const FREE = 'prop-free';

let tableName: string;
let server: LocalServer;
let invoke: (event: unknown, context: unknown) => Promise<unknown>;
let heldToken = 0;
const doc = documentClient();

/** The whole table, as a comparable string. */
async function snapshot(): Promise<string> {
  const { Items = [] } = await doc.send(
    new ScanCommand({ TableName: tableName, ConsistentRead: true }),
  );
  return JSON.stringify(Items.sort((a, b) => String(a.lockId).localeCompare(String(b.lockId))));
}

/**
 * Watches the table across refused requests: they must change nothing. The table is re-read
 * after each accepted request, and compared before any request that might be accepted, every
 * `every` refused requests, and at the end. Guessing "might be accepted" too narrowly can only
 * make the test fail (a change then shows up in a window of refused requests), never pass.
 */
class ChangeWatch {
  private expected = '';
  private since: string[] = [];

  constructor(private readonly every: number) {}

  async reset() {
    this.expected = await snapshot();
    this.since = [];
  }

  /**
   * Call before each request that could be accepted (and so change a lock): the refused
   * requests before it are checked first, while the table should still match.
   */
  async before(mayChange: boolean) {
    if (mayChange && this.since.length > 0) await this.verify();
  }

  /** Call after each request; `accepted`: the service took it and may have changed a lock. */
  async after(description: string, accepted: boolean) {
    if (accepted) {
      await this.reset();
      return;
    }
    this.since.push(description);
    if (this.since.length >= this.every) await this.verify();
  }

  async verify() {
    if ((await snapshot()) !== this.expected) {
      throw new Error(
        `a refused request changed the locks table; one of:\n${this.since.slice(-50).join('\n')}`,
      );
    }
    this.since = [];
  }
}

// ---- generators -------------------------------------------------------------------------

const boundaryNumbers = fc.constantFrom(
  0,
  -0,
  -1,
  1,
  0.5,
  999,
  1_000,
  1_001,
  43_200_000,
  43_200_001,
  900_000,
  900_001,
  2 ** 31,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER,
  1e308,
  Number.MIN_VALUE,
);
const oddUnicode = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  '\uD800', // a lone surrogate: not valid UTF-16
  '\uDFFF\uD800',
  '\uFEFF',
  'e\u0301',
  '\u202Eevil',
  '👩‍👩‍👧‍👦',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'ﷺ',
  '../..',
  '%00',
  '%',
  '\\',
  '"',
  '\n\r\t',
);
/**
 * Owners that are valid but hostile: the names every JavaScript object already has, the
 * language's reserved words, and long Unicode strings up to the 256-byte limit. Each must work
 * exactly like "w1".
 */
const HOSTILE_OWNERS = [
  ...Object.getOwnPropertyNames(Object.prototype),
  ...['break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete'],
  ...['do', 'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if'],
  ...['implements', 'import', 'in', 'instanceof', 'interface', 'let', 'new', 'null', 'package'],
  ...['private', 'protected', 'public', 'return', 'static', 'super', 'switch', 'this', 'throw'],
  ...['true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield', 'await', 'arguments'],
  ...['eval', 'undefined', 'NaN', 'Infinity', 'prototype', '__proto__.x', 'constructor.prototype'],
  '𝔘'.repeat(64),
  'é'.repeat(128),
  '👩‍👩‍👧‍👦'.repeat(10),
  '\u202E'.repeat(85),
  'x'.repeat(256),
];
const hostileOwner = fc.constantFrom(...HOSTILE_OWNERS);
const hugeString = fc
  .tuple(fc.constantFrom(257, 1_025, 4_097, 70_000, 400_000), fc.constantFrom('x', 'é', '😀'))
  .map(([n, c]) => c.repeat(n));
const anyString = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 40 }), oddUnicode);
const badValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: boundaryNumbers },
  { weight: 3, arbitrary: anyString },
  { weight: 2, arbitrary: hostileOwner },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [1], { a: 1 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const lockIdValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(HELD, FREE) },
  { weight: 2, arbitrary: anyString },
  { weight: 1, arbitrary: hugeString },
);

type Fields = Record<string, unknown>;
/** A valid request for `action`, which a mutation then breaks (or, by chance, keeps valid). */
const validFields = (action: string): Fields => {
  switch (action) {
    case 'acquire':
      return { owner: 'prop-owner', leaseMs: 1_000, waitMs: 0, data: { k: 'v' } };
    case 'renew':
      return { owner: 'holder', token: heldToken, leaseMs: 600_000 };
    case 'release':
      return { owner: 'holder', token: heldToken };
    default:
      return {};
  }
};
const FIELDS = [
  'owner',
  'token',
  'leaseMs',
  'waitMs',
  'data',
  'permits',
  'lockId',
  'action',
  'unknownField',
];
/** Sets or deletes one to three fields to generated values. */
const mutation = fc.array(
  fc.tuple(fc.constantFrom(...FIELDS, '__proto__', 'constructor'), badValue, fc.boolean()),
  { minLength: 1, maxLength: 3 },
);
const mutate = (fields: Fields, changes: [string, unknown, boolean][]) => {
  const out: Fields = { ...fields };
  for (const [name, value, remove] of changes) {
    if (remove) delete out[name];
    else
      Object.defineProperty(out, name, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return out;
};

const ACTIONS = ['acquire', 'renew', 'release', 'get', 'forceRelease'];
const httpRequest = fc.record({
  method: fc.oneof(
    { weight: 8, arbitrary: fc.constant('POST') },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'DELETE', 'PUT', 'PATCH') },
  ),
  lockId: lockIdValue,
  encode: fc.boolean(),
  action: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('acquire', 'renew', 'release') },
    { weight: 1, arbitrary: fc.constantFrom('', 'lock', 'acquire/extra', 'ACQUIRE') },
  ),
  body: fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom('acquire', 'renew', 'release'), mutation)
        .map(([action, changes]) => JSON.stringify(mutate(validFields(action), changes))),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string() },
    {
      weight: 1,
      arbitrary: fc.constantFrom(undefined, '', '{', 'null', '[]', '{"owner":', '\u0000'),
    },
    { weight: 1, arbitrary: hugeString.map((s) => JSON.stringify({ owner: s })) },
  ),
});
const directEvent = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...ACTIONS), lockIdValue, mutation)
      .map(([action, lockId, changes]) =>
        mutate({ action, lockId, ...validFields(action) }, changes),
      ),
  },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.record({ action: anyString, lockId: lockIdValue }) },
);

// ---- the test ---------------------------------------------------------------------------

beforeAll(async () => {
  tableName = await freshLockTable('bad-input-property');
  process.env.LOCK_TABLE_NAME = tableName;
  process.env.DYNAMODB_ENDPOINT = endpoint();
  // The deployed entry file itself: it reads its configuration from the environment at import.
  ({ handler: invoke } = (await import('../../lambdas/direct/invoke.handler.js')) as {
    handler: (event: unknown, context: unknown) => Promise<unknown>;
  });
  server = await startLocalServer({ tableName, dynamodbEndpoint: endpoint(), port: 0 });
  const held = (await invoke(
    { action: 'acquire', lockId: HELD, owner: 'holder', leaseMs: 600_000 },
    lambdaContext('prop', 10_000),
  )) as { token: number };
  heldToken = held.token;
  const free = (await invoke(
    { action: 'acquire', lockId: FREE, owner: 'holder' },
    lambdaContext('prop', 10_000),
  )) as { token: number };
  await invoke(
    { action: 'release', lockId: FREE, owner: 'holder', token: free.token },
    lambdaContext('prop', 10_000),
  );
});

afterAll(async () => {
  await server?.close();
  doc.destroy();
});

describe('bad input at scale (fast-check)', () => {
  test(`${RUNS.http} generated HTTP requests: no 5xx, and refused ones change no lock`, async () => {
    const watch = new ChangeWatch(1_000);
    await watch.reset();
    const statuses = new Map<number, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(httpRequest, async ({ method, lockId, encode, action, body }) => {
        const id = typeof lockId === 'string' ? lockId : String(lockId);
        let path: string;
        let url: URL;
        try {
          path = `/locks/${encode ? encodeURIComponent(id) : id}${action ? `/${action}` : ''}`;
          url = new URL(path, server.url);
        } catch {
          return; // not a URL any client could send (a lone surrogate cannot be encoded)
        }
        const text = body;
        const hasBody = method !== 'GET' && text !== undefined;
        await watch.before(httpMayChange(method, id, action, hasBody ? text : undefined));
        const response = await fetch(url, {
          method,
          headers: { 'content-type': 'application/json' },
          ...(hasBody ? { body: text } : {}),
        });
        const raw = await response.text();
        sent++;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const describe = `${method} ${path.slice(0, 120)} ${String(text).slice(0, 200)} -> ${response.status} ${raw.slice(0, 200)}`;
        expect({ status: response.status < 500, describe }).toEqual({ status: true, describe });
        // 414/431: Node's HTTP parser refuses an oversized URL or headers before any handler
        // runs, with no body (API Gateway refuses those at its edge too).
        if (response.status >= 400 && response.status !== 414 && response.status !== 431) {
          const json = JSON.parse(raw) as { error?: unknown };
          expect(typeof json.error).toBe('string');
        }
        const mutating = method !== 'GET';
        await watch.after(describe, mutating && response.status === 200);
      }),
      // A few generated URLs cannot be sent at all; generate enough to send RUNS.http.
      { numRuns: Math.ceil(RUNS.http * 1.05), seed: SEED, endOnFailure: true },
    );
    await watch.verify();
    expect(sent).toBeGreaterThanOrEqual(RUNS.http);
    // Most generated requests must be refusals, or the property proves little.
    const refused = [...statuses].filter(([s]) => s >= 400).reduce((n, [, c]) => n + c, 0);
    expect(refused).toBeGreaterThan(sent * 0.8);
  }, 240_000);

  test(`${RUNS.direct} generated direct invocations: only named errors, refused ones change no lock`, async () => {
    const watch = new ChangeWatch(1_000);
    await watch.reset();
    const names = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(directEvent, async (event) => {
        await watch.before(directMayChange(event));
        let name = 'ok';
        try {
          await invoke(event, lambdaContext('prop', 2_000));
        } catch (err) {
          name = err instanceof Error ? err.name : `non-error ${typeof err}`;
        }
        names.set(name, (names.get(name) ?? 0) + 1);
        const describe = `${safeJson(event)} -> ${name}`;
        expect({
          name: ['ok', 'ValidationError', 'LockHeld', 'LockLost'].includes(name),
          describe,
        }).toEqual({
          name: true,
          describe,
        });
        const action = (event as { action?: unknown } | null)?.action;
        await watch.after(describe, name === 'ok' && action !== 'get');
      }),
      { numRuns: RUNS.direct, seed: SEED + 2, endOnFailure: true },
    );
    await watch.verify();
    expect(names.get('ValidationError') ?? 0).toBeGreaterThan(RUNS.direct * 0.8);
  }, 120_000);
});

describe('hostile owners (fast-check)', () => {
  let seq = 0;
  const kinds = fc.constantFrom('lock', 'semaphore');

  /** One request over HTTP: the body's answer, or the status and error when refused. */
  async function overHttp(path: string, body?: object): Promise<Record<string, unknown>> {
    const response = await fetch(new URL(path, server.url), {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200) throw new Error(`${response.status} ${JSON.stringify(json)}`);
    return json;
  }
  const overDirect = (action: string, lockId: string, body: object = {}) =>
    invoke({ action, lockId, ...body }, lambdaContext('prop', 10_000)) as Promise<
      Record<string, unknown>
    >;

  test(`every owner of ${HOSTILE_OWNERS.length} hostile names works like "w1" on locks and semaphores, over HTTP and direct invocation`, async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileOwner,
        kinds,
        fc.constantFrom('http', 'direct'),
        async (owner, kind, edge) => {
          const lockId = `hostile-${kind}-${++seq}`;
          const permits = kind === 'semaphore' ? { permits: 2 } : {};
          const call = (action: string, body?: object) =>
            edge === 'http'
              ? overHttp(`/locks/${lockId}${action === 'get' ? '' : `/${action}`}`, body)
              : overDirect(action, lockId, body);
          // Another owner first, so a semaphore has been used once before the hostile owner.
          if (kind === 'semaphore') await call('acquire', { owner: 'w1', ...permits });
          const grant = await call('acquire', { owner, leaseMs: 60_000, ...permits });
          expect(grant).toMatchObject({ owner });
          expect(await call('acquire', { owner, ...permits })).toEqual(grant);
          const state = await call('get');
          const holders = (state.holders as { owner: string }[] | undefined)?.map((h) => h.owner);
          expect(kind === 'lock' ? state.owner : holders).toEqual(
            kind === 'lock' ? owner : expect.arrayContaining([owner, 'w1']),
          );
          const { token } = grant as { token: number };
          expect(await call('renew', { owner, token, ...permits })).toMatchObject({ token });
          expect(await call('release', { owner, token, ...permits })).toEqual({ released: true });
          expect(await call('get')).toMatchObject({ held: kind === 'semaphore' });
        },
      ),
      { numRuns: 300, seed: SEED + 4, endOnFailure: true },
    );
  }, 120_000);
});

// Guesses whether a request could be accepted, with the service's own parsers. A wrong guess
// cannot hide a change made by a refused request: it shows up in the next comparison.
function directMayChange(event: unknown): boolean {
  try {
    return parseInvokeEvent(event).action !== 'get';
  } catch {
    return false;
  }
}

function httpMayChange(method: string, id: string, action: string, body: string | undefined) {
  if (method === 'DELETE') return action === '';
  if (method !== 'POST' || !['acquire', 'renew', 'release'].includes(action)) return false;
  try {
    const op = action as OperationName;
    const input = parseObject(JSON.parse(body ?? ''), fieldNames(op), 'body');
    parseLockRequest(op, id, input);
    return true;
  } catch {
    return false;
  }
}

test('the change watch catches a lock changed during a refused request', async () => {
  const watch = new ChangeWatch(1_000);
  await watch.reset();
  await watch.after('refused, changed nothing', false);
  await watch.verify();
  // Stands in for a refused request that wrote anyway.
  await doc.send(
    new PutCommand({ TableName: tableName, Item: { lockId: 'watch-probe', token: 1 } }),
  );
  await watch.after('refused, but wrote an item', false);
  await expect(watch.verify()).rejects.toThrow(/wrote an item/);
});

function safeJson(value: unknown): string {
  try {
    return (JSON.stringify(value) ?? String(value)).slice(0, 300);
  } catch {
    return String(value).slice(0, 300);
  }
}
