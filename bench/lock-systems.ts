import { CreateTableCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocument } from '@aws-sdk/lib-dynamodb';
import {
  dynamoDBLockClientFactory,
  type LockClient,
  LockNotGrantedError,
} from '@deliveryhero/dynamodb-lock';
import dynamodbLockClient, { type FailOpen, type Lock } from 'dynamodb-lock-client';
import { createLockTable, LockHeld, LockManager } from '../lib/index.js';
import { localDocumentClient, localDynamoClient } from '../local/dynamodb-local.js';
import { jsonClient } from './http-client.js';
import { v2DocumentClient } from './v2-document-client.js';

/** The systems compared, in table order: ours first. */
export const SYSTEM_KEYS = ['library', 'http', 'dynamodb-lock-client', 'deliveryhero'] as const;
export type SystemKey = (typeof SYSTEM_KEYS)[number];

export const SYSTEM_LABELS: Record<SystemKey, string> = {
  library: 'ours: library',
  http: 'ours: HTTP (REST API events)',
  'dynamodb-lock-client': 'dynamodb-lock-client 0.7.3 (FailOpen)',
  deliveryhero: '@deliveryhero/dynamodb-lock 2.0.0',
};

/** The table each system uses; each gets its own, so one's items never disturb another's. */
export const TABLES: Record<SystemKey, string> = {
  library: 'bench-library',
  http: 'bench-http',
  'dynamodb-lock-client': 'bench-dynamodb-lock-client',
  deliveryhero: 'bench-deliveryhero',
};

export interface AcquireRequest {
  lockId: string;
  owner: string;
  leaseMs: number;
  /** Wait (by the system's own retry mechanism) while the lock is held, instead of failing. */
  wait: boolean;
  /**
   * With `wait`, give up after about this long (only the systems in {@link BOUNDED_WAIT}).
   * @default practically forever
   */
  waitMs?: number;
}

/** The systems that can wait for a bounded time (`waitMs`); dynamodb-lock-client counts retries, each waiting out the lease it finds. */
export const BOUNDED_WAIT: readonly SystemKey[] = ['library', 'http', 'deliveryhero'];

/** Every system's "the lock is held and you did not get it", so callers tell it from failures. */
export class NotGranted extends Error {
  constructor(key: SystemKey, cause: unknown) {
    super(`${key}: not granted`, { cause });
    this.name = 'NotGranted';
  }
}

/** A granted lock, to be released once. */
export interface HeldLock {
  /** The fencing token, where the system issues one. */
  token?: number;
  release(): Promise<void>;
}

/** One lock implementation behind a common face, so every scenario drives all alike. */
export interface LockSystem {
  readonly key: SystemKey;
  acquire(request: AcquireRequest): Promise<HeldLock>;
  close(): Promise<void>;
}

export interface SystemOptions {
  /** DynamoDB endpoint the system's SDK client talks to (DynamoDB Local, or the counting proxy). */
  dynamodbEndpoint: string;
  /** Base URL of the local HTTP API (the `http` system only). */
  httpUrl?: string;
  /**
   * Run the peers with `trustLocalTime`, their fastest documented setting (ours always compares
   * lease ends with the local clock). False gives their defaults, which wait out a whole lease
   * on any lock they find held.
   * @default true
   */
  trustLocalTime?: boolean;
  /** How often `@deliveryhero/dynamodb-lock` re-checks a held lock with `trustLocalTime`. @default 50 */
  peerPollMs?: number;
}

/** How long one HTTP acquire may wait server-side; the client asks again after a 409. */
const HTTP_WAIT_MS = 10_000;

/**
 * Creates the tables of every system (idempotent).
 *
 * @example await createBenchTables(db.endpoint);
 */
export async function createBenchTables(dynamodbEndpoint: string): Promise<void> {
  const ddb = localDynamoClient(dynamodbEndpoint);
  try {
    await createLockTable(ddb, TABLES.library);
    await createLockTable(ddb, TABLES.http);
    // dynamodb-lock-client needs only a string partition key; the name is the config's choice.
    await createLockTable(ddb, TABLES['dynamodb-lock-client']);
    try {
      // @deliveryhero/dynamodb-lock's default schema: partition key lockId, sort key lockGroup.
      await ddb.send(
        new CreateTableCommand({
          TableName: TABLES.deliveryhero,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'lockId', AttributeType: 'S' },
            { AttributeName: 'lockGroup', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'lockId', KeyType: 'HASH' },
            { AttributeName: 'lockGroup', KeyType: 'RANGE' },
          ],
        }),
      );
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
  } finally {
    ddb.destroy();
  }
}

/**
 * Builds one system's client.
 *
 * @example
 * const system = createSystem('library', { dynamodbEndpoint: db.endpoint });
 * const held = await system.acquire({ lockId: 'a', owner: 'w1', leaseMs: 2000, wait: false });
 * await held.release();
 */
export function createSystem(key: SystemKey, options: SystemOptions): LockSystem {
  switch (key) {
    case 'library':
      return librarySystem(options);
    case 'http':
      return httpSystem(options);
    case 'dynamodb-lock-client':
      return dynamodbLockClientSystem(options);
    case 'deliveryhero':
      return deliveryheroSystem(options);
  }
}

function librarySystem(options: SystemOptions): LockSystem {
  const client = localDocumentClient(options.dynamodbEndpoint);
  const locks = new LockManager({ tableName: TABLES.library, client });
  return {
    key: 'library',
    async acquire({ lockId, owner, leaseMs, wait, waitMs }) {
      const grant = await locks
        .acquire(lockId, { owner, leaseMs, waitMs: wait ? (waitMs ?? 600_000) : 0 })
        .catch((err: unknown) => {
          throw err instanceof LockHeld ? new NotGranted('library', err) : err;
        });
      return {
        token: grant.token,
        release: async () => void (await locks.release(lockId, grant)),
      };
    },
    async close() {
      client.destroy();
    },
  };
}

function httpSystem(options: SystemOptions): LockSystem {
  if (!options.httpUrl) throw new Error('the http system needs httpUrl');
  const api = jsonClient(options.httpUrl);
  return {
    key: 'http',
    async acquire({ lockId, owner, leaseMs, wait, waitMs }) {
      const path = `/locks/${encodeURIComponent(lockId)}`;
      const deadline = Date.now() + (waitMs ?? Number.POSITIVE_INFINITY);
      for (;;) {
        const left = Math.min(HTTP_WAIT_MS, Math.max(0, deadline - Date.now()));
        const { status, body } = await api.post(`${path}/acquire`, {
          owner,
          leaseMs,
          ...(wait && left > 0 ? { waitMs: Math.round(left) } : {}),
        });
        if (status === 200) {
          const token = body.token as number;
          return {
            token,
            async release() {
              const answer = await api.post(`${path}/release`, { owner, token });
              if (answer.status !== 200) {
                throw new Error(`release: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
              }
            },
          };
        }
        if (status === 409 && wait && Date.now() < deadline) continue;
        if (status === 409) throw new NotGranted('http', new Error(JSON.stringify(body)));
        throw new Error(`acquire: HTTP ${status} ${JSON.stringify(body)}`);
      }
    },
    async close() {
      api.close();
    },
  };
}

function dynamodbLockClientSystem(options: SystemOptions): LockSystem {
  const doc = localDocumentClient(options.dynamodbEndpoint);
  const dynamodb = v2DocumentClient(doc);
  // The lease and retry count are per client in this library, so keep one client per setting.
  const clients = new Map<string, FailOpen>();
  const clientFor = (owner: string, leaseMs: number, wait: boolean): FailOpen => {
    const id = `${owner}\n${leaseMs}\n${wait}`;
    let client = clients.get(id);
    if (!client) {
      client = new dynamodbLockClient.FailOpen({
        dynamodb,
        lockTable: TABLES['dynamodb-lock-client'],
        partitionKey: 'lockId',
        leaseDurationMs: leaseMs,
        owner,
        trustLocalTime: options.trustLocalTime ?? true,
        // Its own waiting: each retry re-reads the lock and waits out the lease it finds.
        retryCount: wait ? 1_000_000 : 0,
      });
      clients.set(id, client);
    }
    return client;
  };
  return {
    key: 'dynamodb-lock-client',
    acquire({ lockId, owner, leaseMs, wait, waitMs }) {
      if (wait && waitMs !== undefined) {
        return Promise.reject(new Error('dynamodb-lock-client: no time-bounded wait'));
      }
      return new Promise((resolve, reject) => {
        clientFor(owner, leaseMs, wait).acquireLock(lockId, (error, lock?: Lock) => {
          if (error?.message === 'Failed to acquire lock.') {
            return reject(new NotGranted('dynamodb-lock-client', error));
          }
          if (error || !lock) return reject(error ?? new Error('no lock'));
          resolve({
            token: lock.fencingToken,
            release: () =>
              new Promise<void>((done, fail) => lock.release((err) => (err ? fail(err) : done()))),
          });
        });
      });
    },
    async close() {
      doc.destroy();
    },
  };
}

function deliveryheroSystem(options: SystemOptions): LockSystem {
  const doc = DynamoDBDocument.from(localDynamoClient(options.dynamodbEndpoint));
  // Its lock client has one owner name and tracks its own locks, so one client per worker.
  const clients = new Map<string, LockClient>();
  const clientFor = (owner: string): LockClient => {
    let client = clients.get(owner);
    if (!client) {
      client = dynamoDBLockClientFactory(doc, { tableName: TABLES.deliveryhero });
      clients.set(owner, client);
    }
    return client;
  };
  const trustLocalTime = options.trustLocalTime ?? true;
  return {
    key: 'deliveryhero',
    async acquire({ lockId, owner, leaseMs, wait, waitMs }) {
      const client = clientFor(owner);
      const pollMs = options.peerPollMs ?? 50;
      // It counts re-checks, not time: one per poll interval approximates a wait of `waitMs`.
      const maxRetryCount = !wait
        ? 0
        : waitMs === undefined
          ? undefined
          : Math.ceil(waitMs / pollMs);
      const lock = await client
        .lock('bench', lockId, {
          leaseDurationInMs: leaseMs,
          prolongLeaseEnabled: false,
          trustLocalTime,
          ...(trustLocalTime ? { waitDurationInMs: pollMs } : {}),
          ...(maxRetryCount === undefined ? {} : { maxRetryCount }),
        })
        .catch((err: unknown) => {
          throw err instanceof LockNotGrantedError ? new NotGranted('deliveryhero', err) : err;
        });
      return { release: () => client.releaseLock(lock) };
    },
    async close() {
      doc.destroy();
    },
  };
}
