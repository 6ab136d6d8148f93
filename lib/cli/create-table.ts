// `lockctl create-table`: the lock table for DynamoDB Local or an account without the CDK
// stack, made by the same function the library exports, so its shape is LockService's.
import { encodeError } from '../contract/error-codec.js';
import { LockServiceUnavailable, ValidationError } from '../core/errors.js';
import { LOCK_TABLE_SCHEMA } from '../core/table-schema.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './usage-error.js';

type Flags = Record<string, string | boolean | undefined>;

/** The flags create-table reads; any other target flag is a usage error. */
export const CREATE_TABLE_USAGE = 'lockctl create-table --table NAME [--dynamodb-endpoint URL]';

/**
 * Creates the lock table named by `--table` and waits until it is active; exit 0 also when it
 * already exists with the lock table's shape, 64 when a table of that name has another shape.
 */
export async function createTable(
  extra: string[],
  flags: Flags,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (typeof flags.table !== 'string') {
    throw new UsageError(`create-table needs --table NAME: ${CREATE_TABLE_USAGE}`);
  }
  if (flags.endpoint !== undefined || flags.function !== undefined) {
    throw new UsageError(
      'create-table talks to DynamoDB: give --table NAME [--dynamodb-endpoint URL], not --endpoint or --function',
    );
  }
  const endpoint = flags['dynamodb-endpoint'];
  const [{ createLockTable }, { createDynamoClient }] = await Promise.all([
    import('../core/lock-table.js'),
    import('../core/dynamodb-client.js'),
  ]);
  const ddb = createDynamoClient(typeof endpoint === 'string' ? { endpoint } : {});
  try {
    const { created } = await createLockTable(ddb, flags.table);
    const said = created ? 'created the lock table' : 'the lock table already exists:';
    const { partitionKey, ttlAttribute } = LOCK_TABLE_SCHEMA;
    out.write(
      flags.json
        ? `${JSON.stringify({ tableName: flags.table, created })}\n`
        : `${said} "${flags.table}" (key ${partitionKey}, TTL on ${ttlAttribute}, on-demand)\n`,
    );
    return EXIT.ok;
  } catch (e) {
    if (!(e instanceof ValidationError)) {
      const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new LockServiceUnavailable(`could not create the lock table (${reason})`, { cause: e });
    }
    if (flags.json) out.write(`${JSON.stringify(encodeError(e))}\n`);
    err.write(`lockctl: ${e.message}; choose another --table\n`);
    return EXIT.usage;
  } finally {
    ddb.destroy();
  }
}
