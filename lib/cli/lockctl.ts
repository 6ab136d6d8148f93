// lockctl: a command line over the same LockClient that other Lambdas use.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { LockClient } from '../client/lock-client.js';
import { LockHeld, LockLost, ValidationError, type Grant } from '../index.js';
import { parseData } from '../core/validation.js';
import { formatDuration, parseDuration } from './durations.js';
import { EXIT } from './exit-codes.js';
import { runCommand } from './run-command.js';

export const HELP = `lockctl - acquire, renew, release and inspect fenced locks

Usage:
  lockctl acquire LOCKID [--owner ID] [--lease 30s] [--wait 0s] [--data JSON]
  lockctl renew LOCKID --owner ID --token N [--lease DURATION]
  lockctl release LOCKID --owner ID --token N
  lockctl get LOCKID
  lockctl force-release LOCKID
  lockctl run LOCKID [--owner ID] [--lease 30s] [--wait 0s] [--grace 10s] -- COMMAND [ARGS...]

Where the service is (pick one):
  --endpoint URL              the HTTP API (default http://localhost:3000; requests are
                              signed with SigV4 when the URL is an AWS one)
  --table NAME                talk to DynamoDB directly through the library
    [--dynamodb-endpoint URL] e.g. DynamoDB Local (default: the AWS default configuration)
  --function NAME             invoke the direct-invocation Lambda function

Options:
  --owner ID      who holds the lock (default: a generated unique id, shown in the output)
  --token N       the grant's fencing token (renew, release)
  --lease D       lease duration, e.g. 30s, 5m (default 30s); a bare number is ms
  --wait D        how long to wait while the lock is held (default 0: one attempt)
  --grace D       run: time between SIGTERM and SIGKILL when the lock is lost (default 10s)
  --json          print JSON instead of readable text
  -h, --help      show this help

run holds the lock while COMMAND runs, renewing it every third of the lease, with
LOCK_ID, LOCK_OWNER and LOCK_TOKEN in COMMAND's environment. If the lock is lost, COMMAND
gets SIGTERM, then SIGKILL after the grace period. The lock is always released at the end.

Exit codes:
  0    success (run: COMMAND's own exit code, 128+N if a signal N ended it)
  ${EXIT.usage}   bad command line or invalid input
  ${EXIT.unavailable}   the service or DynamoDB failed or could not be reached
  ${EXIT.held}   the lock is held by someone else (not acquired within --wait)
  ${EXIT.lost}   the lock was lost (renew refused, or lost while run's COMMAND ran)
`;

class UsageError extends Error {}

type Flags = {
  endpoint?: string;
  table?: string;
  'dynamodb-endpoint'?: string;
  function?: string;
  owner?: string;
  token?: string;
  lease?: string;
  wait?: string;
  grace?: string;
  data?: string;
  json?: boolean;
  help?: boolean;
};

function clientFor(flags: Flags): LockClient {
  const targets = [flags.endpoint, flags.table, flags.function].filter((v) => v !== undefined);
  if (targets.length > 1) throw new UsageError('give only one of --endpoint, --table, --function');
  if (flags.table !== undefined) {
    const endpoint = flags['dynamodb-endpoint'];
    const local =
      endpoint !== undefined && !process.env.AWS_ACCESS_KEY_ID
        ? {
            region: process.env.AWS_REGION ?? 'local',
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          }
        : {};
    const ddb = new DynamoDBClient({ ...(endpoint ? { endpoint } : {}), ...local });
    return new LockClient({
      transport: 'dynamodb',
      tableName: flags.table,
      client: DynamoDBDocumentClient.from(ddb),
    });
  }
  if (flags.function !== undefined) {
    return new LockClient({ transport: 'lambda', functionName: flags.function });
  }
  return new LockClient({ transport: 'http', endpoint: flags.endpoint ?? 'http://localhost:3000' });
}

function token(flags: Flags): number {
  if (flags.token === undefined) throw new UsageError('--token is required');
  const value = Number(flags.token);
  if (!/^\d+$/.test(flags.token) || !Number.isSafeInteger(value)) {
    throw new ValidationError(
      '--token',
      `--token must be a positive integer, got "${flags.token}"`,
    );
  }
  return value;
}

const duration = (flag: string, text: string | undefined) =>
  text === undefined ? undefined : parseDuration(flag, text);

function describeGrant(verb: string, grant: Grant): string {
  const left = formatDuration(Math.max(0, grant.expiresAt - Date.now()));
  return [
    `${verb} "${grant.lockId}"`,
    `  owner:   ${grant.owner}`,
    `  token:   ${grant.token}`,
    `  expires: ${new Date(grant.expiresAt).toISOString()} (in ${left}, lease ${formatDuration(grant.leaseMs)})`,
  ].join('\n');
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
      args: own,
      allowPositionals: true,
      options: {
        endpoint: { type: 'string' },
        table: { type: 'string' },
        'dynamodb-endpoint': { type: 'string' },
        function: { type: 'string' },
        owner: { type: 'string' },
        token: { type: 'string' },
        lease: { type: 'string' },
        wait: { type: 'string' },
        grace: { type: 'string' },
        data: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err.write(`lockctl: ${(e as Error).message}\n\n${HELP}`);
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
    if (lockId === undefined) throw new UsageError(`${verb} needs a LOCKID`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (verb !== 'run' && command.length > 0) throw new UsageError('only run takes -- COMMAND');
    const client = clientFor(flags);
    const leaseMs = duration('--lease', flags.lease);
    const waitMs = duration('--wait', flags.wait);
    switch (verb) {
      case 'acquire': {
        const data =
          flags.data === undefined ? undefined : parseData(parseJson('--data', flags.data));
        const owner = flags.owner ?? `lockctl-${randomUUID()}`;
        const grant = await client.acquire(lockId, { owner, leaseMs, waitMs, data });
        print(grant, describeGrant('acquired', grant));
        return EXIT.ok;
      }
      case 'renew': {
        if (flags.owner === undefined) throw new UsageError('--owner is required');
        const grant = await client.renew(lockId, {
          owner: flags.owner,
          token: token(flags),
          leaseMs,
        });
        print(grant, describeGrant('renewed', grant));
        return EXIT.ok;
      }
      case 'release': {
        if (flags.owner === undefined) throw new UsageError('--owner is required');
        const result = await client.release(lockId, { owner: flags.owner, token: token(flags) });
        print(
          result,
          result.released
            ? `released "${lockId}"`
            : `"${lockId}" was not held by this owner and token; nothing changed`,
        );
        return EXIT.ok;
      }
      case 'get': {
        const state = await client.get(lockId);
        const text = state.held
          ? `"${lockId}" is held by ${state.owner}, token ${state.token}, until ${new Date(state.expiresAt ?? 0).toISOString()}`
          : `"${lockId}" is free${state.token === undefined ? '' : ` (last token ${state.token})`}`;
        print(state, text);
        return EXIT.ok;
      }
      case 'force-release': {
        const result = await client.forceRelease(lockId);
        print(result, result.released ? `force-released "${lockId}"` : `"${lockId}" was not held`);
        return EXIT.ok;
      }
      case 'run': {
        if (command.length === 0) throw new UsageError('run needs -- COMMAND [ARGS...]');
        const graceMs = duration('--grace', flags.grace) ?? 10_000;
        const owner = flags.owner ?? `lockctl-${randomUUID()}`;
        const outcome = await client.withLock(
          lockId,
          ({ token: fencingToken, signal }) => {
            if (!flags.json)
              err.write(`lockctl: holding "${lockId}" as ${owner}, token ${fencingToken}\n`);
            return runCommand(
              command[0],
              command.slice(1),
              {
                ...process.env,
                LOCK_ID: lockId,
                LOCK_OWNER: owner,
                LOCK_TOKEN: String(fencingToken),
              },
              signal,
              graceMs,
            );
          },
          { owner, leaseMs, waitMs },
        );
        if (outcome.stoppedForLoss) {
          err.write(`lockctl: lost the lock "${lockId}" while the command ran; it was stopped\n`);
          return EXIT.lost;
        }
        return outcome.code;
      }
      default:
        throw new UsageError(`unknown command "${verb}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`lockctl: ${e.message}\n\nRun lockctl --help for usage.\n`);
      return EXIT.usage;
    }
    if (flags.json) out.write(`${JSON.stringify(errorJson(e))}\n`);
    if (e instanceof ValidationError) {
      err.write(`lockctl: invalid ${e.field}: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof LockHeld) {
      err.write(
        `lockctl: "${lockId}" is held by ${e.owner} for another ${formatDuration(e.retryAfterMs)}\n`,
      );
      return EXIT.held;
    }
    if (e instanceof LockLost) {
      err.write(`lockctl: ${e.message}\n`);
      return EXIT.lost;
    }
    err.write(`lockctl: ${(e as Error).message ?? String(e)}\n`);
    return EXIT.unavailable;
  }
}

function parseJson(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError(flag, `${flag} must be JSON`);
  }
}

function errorJson(e: unknown) {
  if (!(e instanceof Error)) return { error: 'Error', message: String(e) };
  const { name, message } = e;
  const fields = Object.fromEntries(
    Object.entries(e).filter(([key]) =>
      ['field', 'owner', 'expiresAt', 'retryAfterMs'].includes(key),
    ),
  );
  return { error: name, message, ...fields };
}
