// lockctl: a command line over the same LockClient that other Lambdas use. Its commands and
// flags are the contract's operations and fields (see contract/operations.ts).
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { LockClient } from '../client/lock-client.js';
import { encodeError } from '../contract/error-codec.js';
import type { FieldSpec, FlagKind } from '../contract/fields.js';
import {
  OPERATION_NAMES,
  OPERATIONS,
  type OperationName,
  type OutputOf,
} from '../contract/operations.js';
import {
  AccessDenied,
  LockHeld,
  LockLost,
  LockServiceUnavailable,
  ValidationError,
} from '../core/errors.js';
import type { Grant, LockState } from '../core/lock-manager.js';
import { LIST } from '../contract/list.js';
import { formatDuration, parseDuration } from './durations.js';
import { listCommand, LS_PAGE_SIZE, watchCommand, watchOptions } from './inspect.js';
import { EXIT } from './exit-codes.js';
import { CREATE_TABLE_USAGE, createTable } from './create-table.js';
import { runCommand } from './run-command.js';
import { checkTargetFlags, DEFAULT_ENDPOINT, faultMessage } from './targets.js';
import { UsageError } from './usage-error.js';

export { UsageError } from './usage-error.js';

/** Flags whose absence lockctl fills in: a generated owner for a new grant. */
const DEFAULTS: Partial<Record<OperationName, Record<string, () => unknown>>> = {
  acquire: { owner: () => `lockctl-${randomUUID()}` },
};

const fieldsOf = (operation: OperationName): [string, FieldSpec<unknown>][] =>
  Object.entries(OPERATIONS[operation].fields);

function usageOf(operation: OperationName): string {
  const flags = fieldsOf(operation).map(([name, { required, flag }]) => {
    const text = [`--${flag.name}`, flag.placeholder].filter(Boolean).join(' ');
    return required && !DEFAULTS[operation]?.[name] ? text : `[${text}]`;
  });
  return ['lockctl', OPERATIONS[operation].command, 'LOCKID', ...flags].join(' ');
}

export const HELP = `lockctl - acquire, renew, release and inspect fenced locks

Usage:
${OPERATION_NAMES.map((operation) => `  ${usageOf(operation)}`).join('\n')}
  lockctl run LOCKID [--owner ID] [--permits N] [--lease 30s] [--wait 0s] [--grace 10s] -- COMMAND [ARGS...]
  ${CREATE_TABLE_USAGE}
  lockctl ${LIST.command} [PREFIX] [--all] [--json]
  lockctl watch LOCKID [--interval 1s] [--count N] [--json]

Where the service is (pick one):
  --endpoint URL              the HTTP API (default ${DEFAULT_ENDPOINT}, this repository's
                              npm start; requests are signed with SigV4 when the URL is an
                              AWS one)
  --table NAME                talk to DynamoDB directly through the library
    [--dynamodb-endpoint URL] e.g. DynamoDB Local, http://localhost:8000 (default: the AWS
                              default configuration); only with --table
  --function NAME             invoke the direct-invocation Lambda function

Options:
  --owner ID      who holds the lock (default: a generated unique id, shown in the output)
  --token N       the grant's fencing token (renew, release)
  --lease D       lease duration, e.g. 30s, 5m (default 30s); a bare number is ms
  --wait D        how long to wait while the lock is held (default 0: one attempt)
  --data JSON     a JSON object kept with the grant (acquire)
  --permits N     LOCKID is a semaphore of N permits (1 to 1000): acquire and run take one
                  permit; renew and release take the same N (it saves a request)
  --track-owner   register the grant under its owner, so that releasing everything the
                  owner holds finds it (what Step Functions sections do)
  --grace D       run: time between SIGTERM and SIGKILL when the lock is lost (default 10s)
  --timeout D     how long one request may take before lockctl gives up with exit 69: each
                  DynamoDB request with --table (default 3s), each API request or invocation
                  beyond the wait it asks for (default 10s)
  --json          print JSON instead of readable text (errors too)
  --all           ls: free locks too (default: held ones only)
  --interval D    watch: time between two reads of the lock (default 1s, at least 250ms)
  --count N       watch: stop after N reads (default: until Ctrl-C)
  --json          print JSON instead of readable text (errors too; ls and watch: one
                  object per line)
  -h, --help      show this help

create-table makes the lock table as the CDK's LockService does (key, TTL, on-demand); it
succeeds when the table already exists with that shape.

run holds the lock while COMMAND runs, renewing it every third of the lease, with
LOCK_ID, LOCK_OWNER and LOCK_TOKEN in COMMAND's environment. If the lock is lost, COMMAND
gets SIGTERM, then SIGKILL after the grace period. The lock is always released at the end.

ls lists locks page by page (${LS_PAGE_SIZE} a request): id, holder (a semaphore's permits in use,
n/N), token, expires in, held for, transitions (times it changed hands), waiting callers. It
scans the whole table: see docs/operations.md for its cost. watch reads one lock once per
--interval (one request each) and prints a line whenever it changes, until Ctrl-C.

Exit codes:
  0    success (run: COMMAND's own exit code, 128+N if a signal N ended it)
  ${EXIT.usage}   bad command line or invalid input
  ${EXIT.unavailable}   the service or DynamoDB failed or could not be reached
  ${EXIT.held}   the lock is held by someone else (not acquired within --wait)
  ${EXIT.lost}   the lock was lost (renew refused, or lost while run's COMMAND ran)
  ${EXIT.denied}   access denied (an operator's action, or a lock outside the caller's scope)
`;

/** Every field's flag, plus where the service is and how to print. */
const OPTIONS = {
  ...Object.fromEntries(
    OPERATION_NAMES.flatMap(fieldsOf).map(([, { flag }]) => [
      flag.name,
      { type: flag.kind === 'boolean' ? 'boolean' : 'string' },
    ]),
  ),
  endpoint: { type: 'string' },
  table: { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
  function: { type: 'string' },
  grace: { type: 'string' },
  timeout: { type: 'string' },
  all: { type: 'boolean' },
  interval: { type: 'string' },
  count: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = Record<string, string | boolean | undefined>;

const READERS: Record<Exclude<FlagKind, 'boolean'>, (flag: string, text: string) => unknown> = {
  string: (_flag, text) => text,
  duration: parseDuration,
  integer: (flag, text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
      throw new ValidationError(flag, `${flag} must be a positive integer, got "${text}"`);
    }
    return value;
  },
  json: (flag, text) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new ValidationError(flag, `${flag} must be JSON`, { cause });
    }
  },
};

/** An operation's input from the flags: each field's flag read by its kind. */
function inputOf(operation: OperationName, flags: Flags): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, { required, flag }] of fieldsOf(operation)) {
    const given = flags[flag.name];
    if (typeof given === 'boolean') input[name] = given;
    else if (typeof given === 'string' && flag.kind !== 'boolean') {
      input[name] = READERS[flag.kind](`--${flag.name}`, given);
    } else if (DEFAULTS[operation]?.[name]) input[name] = DEFAULTS[operation][name]();
    else if (required) throw new UsageError(`--${flag.name} is required`);
  }
  return input;
}

async function clientFor(flags: Flags): Promise<LockClient> {
  const targets = [flags.endpoint, flags.table, flags.function].filter((v) => v !== undefined);
  if (targets.length > 1) throw new UsageError('give only one of --endpoint, --table, --function');
  checkTargetFlags(flags);
  const requestTimeoutMs =
    typeof flags.timeout === 'string' ? parseDuration('--timeout', flags.timeout) : undefined;
  if (requestTimeoutMs === 0) throw new ValidationError('--timeout', '--timeout must be above 0');
  // Loaded here, not at the top: `--help` and usage errors need none of the SDK.
  const [{ LockClient }, { createDocumentClient, createDynamoClient }] = await Promise.all([
    import('../client/lock-client.js'),
    import('../core/dynamodb-client.js'),
  ]);
  if (typeof flags.table === 'string') {
    const endpoint = flags['dynamodb-endpoint'];
    const ddb = createDynamoClient(typeof endpoint === 'string' ? { endpoint } : {});
    return new LockClient({
      transport: 'dynamodb',
      tableName: flags.table,
      client: createDocumentClient(ddb),
      requestTimeoutMs,
    });
  }
  if (typeof flags.function === 'string') {
    return new LockClient({ transport: 'lambda', functionName: flags.function, requestTimeoutMs });
  }
  const endpoint = typeof flags.endpoint === 'string' ? flags.endpoint : DEFAULT_ENDPOINT;
  return new LockClient({ transport: 'http', endpoint, requestTimeoutMs });
}

function describeGrant(verb: string, grant: Grant): string {
  const left = formatDuration(Math.max(0, grant.expiresAt - Date.now()));
  return [
    `${verb} "${grant.lockId}"`,
    `  owner:   ${grant.owner}`,
    `  token:   ${grant.token}`,
    `  expires: ${new Date(grant.expiresAt).toISOString()} (in ${left}, lease ${formatDuration(grant.leaseMs)})`,
  ].join('\n');
}

/** A lock's history as `get` reads it: since when it is held, how often it changed hands. */
function history(state: LockState): string {
  const parts = [
    ...(state.acquiredAt === undefined
      ? []
      : [`held for ${formatDuration(Math.max(0, Date.now() - state.acquiredAt))}`]),
    ...(state.transitions === undefined ? [] : [`${state.transitions} transitions`]),
    ...(state.waiting ? [`${state.waiting} waiting`] : []),
  ];
  return parts.length > 0 ? `; ${parts.join(', ')}` : '';
}

/** How each operation's answer reads without `--json`. */
const DESCRIBE: { [O in OperationName]: (result: OutputOf<O>, lockId: string) => string } = {
  acquire: (grant) => describeGrant('acquired', grant),
  renew: (grant) => describeGrant('renewed', grant),
  release: ({ released }, lockId) =>
    released
      ? `released "${lockId}"`
      : `"${lockId}" was not held by this owner and token; nothing changed`,
  get: (state, lockId) =>
    state.permits !== undefined
      ? [
          `"${lockId}" is a semaphore of ${state.permits} permits, ${state.available} free`,
          ...(state.holders ?? []).map(
            (h) => `  ${h.owner}, token ${h.token}, until ${new Date(h.expiresAt).toISOString()}`,
          ),
        ].join('\n')
      : state.held
        ? `"${lockId}" is held by ${state.owner}, token ${state.token}, until ${new Date(state.expiresAt ?? 0).toISOString()}${history(state)}`
        : `"${lockId}" is free${state.token === undefined ? '' : ` (last token ${state.token})`}${history(state)}`,
  forceRelease: ({ released }, lockId) =>
    released ? `force-released "${lockId}"` : `"${lockId}" was not held`,
};

const operationOf = (command: string): OperationName | undefined =>
  OPERATION_NAMES.find((operation) => OPERATIONS[operation].command === command);

/**
 * `--lease -5s` as `--lease=-5s`: parseArgs takes a value that starts with a dash for a
 * forgotten value and answers "ambiguous"; joined, the value reaches its reader, which says
 * what is wrong with it. Only values that look like negative numbers are joined, so
 * `--owner --json` still reports the missing owner.
 */
function withDashValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = /^--([a-z-]+)$/.exec(args[i])?.[1];
    const option =
      name === undefined ? undefined : (OPTIONS as Record<string, { type: string }>)[name];
    if (option?.type === 'string' && /^-\d/.test(args[i + 1] ?? '')) {
      joined.push(`${args[i]}=${args[i + 1]}`);
      i++;
    } else joined.push(args[i]);
  }
  return joined;
}

/** Runs one lockctl command line; returns the exit code instead of exiting, for tests. */
export async function main(
  argv: string[],
  out = process.stdout,
  err = process.stderr,
): Promise<number> {
  const separator = argv.indexOf('--');
  const own = separator === -1 ? argv : argv.slice(0, separator);
  const command = separator === -1 ? [] : argv.slice(separator + 1);
  let flags: Flags;
  let positionals: string[];
  try {
    ({ values: flags, positionals } = parseArgs({
      args: withDashValues(own),
      allowPositionals: true,
      options: OPTIONS,
    }));
  } catch (e) {
    err.write(`lockctl: ${(e as Error).message}\n\nRun lockctl --help for usage.\n`);
    return EXIT.usage;
  }
  if (flags.help || positionals.length === 0) {
    (flags.help ? out : err).write(HELP);
    return flags.help ? EXIT.ok : EXIT.usage;
  }
  const [verb, lockId, ...extra] = positionals;
  const print = (json: unknown, text: string) =>
    out.write(flags.json ? `${JSON.stringify(json)}\n` : `${text}\n`);

  try {
    if (verb === 'create-table') {
      if (command.length > 0) throw new UsageError('only run takes -- COMMAND');
      checkTargetFlags(flags);
      return await createTable(positionals.slice(1), flags, out, err);
    }
    if (verb === LIST.command || verb === 'watch') {
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
      if (command.length > 0) throw new UsageError('only run takes -- COMMAND');
      return await inspect(verb, lockId, flags, out);
    }
    if (lockId === undefined) throw new UsageError(`${verb} needs a LOCKID`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (verb !== 'run' && command.length > 0) throw new UsageError('only run takes -- COMMAND');
    if (verb === 'run') return await run(lockId, command, flags, err);
    const operation = operationOf(verb);
    if (!operation) throw new UsageError(`unknown command "${verb}"`);
    const input = inputOf(operation, flags);
    const client = await clientFor(flags);
    const call = client[operation] as (id: string, input: object) => Promise<never>;
    const result = await call.call(client, lockId, input);
    print(result, DESCRIBE[operation](result, lockId));
    return EXIT.ok;
  } catch (e) {
    return failure(e, lockId, flags, out, err);
  }
}

/** `ls` and `watch` (see inspect.ts); `watch` ends at Ctrl-C, or after `--count` reads. */
async function inspect(
  verb: string,
  lockId: string | undefined,
  flags: Flags,
  out: NodeJS.WritableStream,
): Promise<number> {
  const json = flags.json === true;
  if (verb === LIST.command) {
    await listCommand(await clientFor(flags), lockId, { all: flags.all === true, json }, out);
    return EXIT.ok;
  }
  if (lockId === undefined) throw new UsageError('watch needs a LOCKID');
  const count =
    typeof flags.count === 'string'
      ? (READERS.integer('--count', flags.count) as number)
      : undefined;
  const timing = watchOptions(
    typeof flags.interval === 'string' ? flags.interval : undefined,
    count,
  );
  const client = await clientFor(flags);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await watchCommand(client, lockId, { ...timing, json }, stop.signal, out);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return EXIT.ok;
}

/** `run`: the command under `withLock`, stopped if the lock is lost. */
async function run(
  lockId: string,
  command: string[],
  flags: Flags,
  err: NodeJS.WritableStream,
): Promise<number> {
  if (command.length === 0) throw new UsageError('run needs -- COMMAND [ARGS...]');
  const { owner, leaseMs, waitMs, permits } = inputOf('acquire', flags) as {
    owner: string;
    leaseMs?: number;
    waitMs?: number;
    permits?: number;
  };
  const graceMs = typeof flags.grace === 'string' ? parseDuration('--grace', flags.grace) : 10_000;
  const client = await clientFor(flags);
  const outcome = await client.withLock(
    lockId,
    ({ token, signal }) => {
      if (!flags.json) err.write(`lockctl: holding "${lockId}" as ${owner}, token ${token}\n`);
      const env = { ...process.env, LOCK_ID: lockId, LOCK_OWNER: owner, LOCK_TOKEN: String(token) };
      return runCommand(command[0], command.slice(1), env, signal, graceMs);
    },
    { owner, leaseMs, waitMs, permits },
  );
  if (outcome.stoppedForLoss) {
    err.write(`lockctl: lost the lock "${lockId}" while the command ran; it was stopped\n`);
    return EXIT.lost;
  }
  return outcome.code;
}

/** Reports an error (as the wire's JSON body with `--json`) and picks the exit code. */
function failure(
  e: unknown,
  lockId: string | undefined,
  flags: Flags,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): number {
  if (flags.json) out.write(`${JSON.stringify(encodeError(e))}\n`);
  if (e instanceof UsageError) {
    err.write(`lockctl: ${e.message}\n\nRun lockctl --help for usage.\n`);
    return EXIT.usage;
  }
  if (e instanceof ValidationError) {
    err.write(`lockctl: invalid ${e.field}: ${e.message}\n`);
    return EXIT.usage;
  }
  if (e instanceof LockHeld) {
    // Refused for a caller waiting next in line, the lock itself free: the error's own words say so.
    const why = e.owner
      ? `"${lockId}" is held by ${e.owner} for another ${formatDuration(e.retryAfterMs)}`
      : e.message;
    err.write(`lockctl: ${why}\n`);
    return EXIT.held;
  }
  if (e instanceof LockLost) {
    err.write(`lockctl: ${e.message}\n`);
    return EXIT.lost;
  }
  if (e instanceof AccessDenied) {
    err.write(`lockctl: access denied: ${e.message}\n`);
    return EXIT.denied;
  }
  if (e instanceof LockServiceUnavailable) {
    err.write(`lockctl: ${faultMessage(e, flags)}\n`);
    return EXIT.unavailable;
  }
  err.write(`lockctl: ${e instanceof Error ? e.message : String(e)}\n`);
  return EXIT.unavailable;
}
