// `npm start`: DynamoDB Local (or an existing endpoint) + the locks table + the HTTP API on localhost.
import { parseArgs } from 'node:util';
import { API_KINDS, type ApiKind } from '../lib/contract/http.js';
import { createLockTable } from '../lib/core/index.js';
import { readConfig } from '../lambdas/service/config.js';
import { type DynamoDbLocal, localDynamoClient, startDynamoDbLocal } from './dynamodb-local.js';
import { type LocalServer, startLocalServer } from './server.js';

const USAGE = `Usage: npm start -- [options]

Serves the lock API on http://localhost:3000 over DynamoDB Local (in memory).

Options (environment variable in brackets):
  --port N                  port to serve on; 0 picks a free one [PORT] (default 3000)
  --host ADDR               address to listen on [HOST] (default 127.0.0.1)
  --db-path DIR             persist DynamoDB Local's data in DIR [LOCK_DB_PATH]
  --dynamodb-endpoint URL   use this DynamoDB instead of starting one [DYNAMODB_ENDPOINT]
  --table NAME              the locks table, created if missing [LOCK_TABLE_NAME] (default locks)
  --api rest|http           the API Gateway API to stand in for: REST API (v1) or HTTP API (v2)
                            events to the same handler [LOCK_API] (default rest)
  --help                    show this text
`;

/** Signals closer together than this are one Ctrl-C seen twice (see onSignal). */
const REPEATED_SIGNAL_MS = 1_000;
/** How often to check whether npm (the parent) is still there. */
const ORPHAN_CHECK_MS = 500;

interface Settings {
  port: number;
  host: string;
  dbPath?: string;
  endpoint?: string;
  tableName: string;
  api: ApiKind;
}

const API_NAMES: Record<ApiKind, string> = {
  rest: 'REST API (v1 proxy events)',
  http: 'HTTP API (v2 events)',
};

function settings(argv: string[], env: NodeJS.ProcessEnv): Settings | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'db-path': { type: 'string' },
      'dynamodb-endpoint': { type: 'string' },
      table: { type: 'string' },
      api: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const rawPort = values.port ?? (env.PORT || '3000');
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65_535) {
    throw new Error(`--port/PORT must be a port number from 0 to 65535, got "${rawPort}"`);
  }
  const endpoint = values['dynamodb-endpoint'] ?? (env.DYNAMODB_ENDPOINT || undefined);
  const dbPath = values['db-path'] ?? (env.LOCK_DB_PATH || undefined);
  if (endpoint && dbPath) {
    throw new Error(
      '--db-path/LOCK_DB_PATH applies only to the DynamoDB Local this starts; drop it or the endpoint',
    );
  }
  const api = values.api ?? (env.LOCK_API || 'rest');
  if (!(API_KINDS as readonly string[]).includes(api)) {
    throw new Error(`--api/LOCK_API must be one of ${API_KINDS.join(', ')}, got "${api}"`);
  }
  const tableName = values.table ?? (env.LOCK_TABLE_NAME || 'locks');
  // Checked before DynamoDB Local starts, with the rule the handlers apply.
  readConfig({ LOCK_TABLE_NAME: tableName });
  return {
    port,
    host: values.host ?? (env.HOST || '127.0.0.1'),
    tableName,
    api: api as ApiKind,
    ...(endpoint ? { endpoint } : {}),
    ...(dbPath ? { dbPath } : {}),
  };
}

async function main(): Promise<void> {
  let options: Settings | undefined;
  try {
    options = settings(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (!options) {
    process.stdout.write(USAGE);
    return;
  }
  // Locally the EMF blobs are noise; the code path that builds them is the same as in Lambda.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  let db: DynamoDbLocal | undefined;
  let server: LocalServer | undefined;
  let stopping = false;

  const startup = async (settings: Settings) => {
    let endpoint = settings.endpoint;
    if (!endpoint) {
      db = await startDynamoDbLocal(settings.dbPath ? { dbPath: settings.dbPath } : {});
      endpoint = db.endpoint;
    }
    if (stopping) return;
    const ddb = localDynamoClient(endpoint);
    try {
      await createLockTable(ddb, settings.tableName);
    } finally {
      ddb.destroy();
    }
    if (stopping) return;
    server = await startLocalServer({
      tableName: settings.tableName,
      dynamodbEndpoint: endpoint,
      port: settings.port,
      host: settings.host,
      api: settings.api,
    });
    const shown = settings.host === '127.0.0.1' ? `http://localhost:${server.port}` : server.url;
    const storage = db
      ? `DynamoDB Local at ${endpoint} (${settings.dbPath ? `persisted in ${settings.dbPath}` : 'in memory'})`
      : `DynamoDB at ${endpoint}`;
    process.stdout.write(
      [
        `Lock API listening on ${shown} (as an API Gateway ${API_NAMES[settings.api]})`,
        `Table "${settings.tableName}" on ${storage}`,
        '',
        'Try:',
        `  curl -s -X POST ${shown}/locks/demo/acquire -H 'content-type: application/json' -d '{"owner":"me","leaseMs":30000}'`,
        `  curl -s ${shown}/locks/demo`,
        '',
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  };

  const starting = startup(options);
  // Waits for a startup in progress, so a DynamoDB Local still booting is stopped too.
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await starting.catch(() => {});
    await server?.close().catch(() => {});
    await db?.stop().catch(() => {});
    if (code === 0) process.stdout.write('stopped\n');
    process.exit(code);
  };
  // A terminal's Ctrl-C signals the whole process group, and npm relays it to its child as
  // well, so one keypress arrives here twice within milliseconds: only a signal well after the
  // first means "give up waiting". Either way this process exits only once DynamoDB Local has.
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      if (performance.now() - firstSignalAt < REPEATED_SIGNAL_MS) return;
      void db?.kill().finally(() => process.exit(130));
      return;
    }
    firstSignalAt = performance.now();
    process.stdout.write(`\n${signal}: stopping...\n`);
    void stop(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // npm exits on a SIGTERM of its own without waiting for (or signalling) this process: once
  // orphaned, stop too, rather than leave the server and DynamoDB Local running unowned.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && !stopping) {
      process.stdout.write('parent process gone: stopping...\n');
      void stop(0);
    }
  }, ORPHAN_CHECK_MS).unref();

  try {
    await starting;
  } catch (err) {
    const error = err as NodeJS.ErrnoException;
    const message =
      error.code === 'EADDRINUSE'
        ? `port ${options.port} is in use: set PORT (or --port) to another port`
        : error.message;
    process.stderr.write(`npm start failed: ${message}\n`);
    await stop(1);
  }
}

await main();
