// The protected resource of the workload: one counter item in the user's own table, which
// also keeps the token of every write it applied, in order, so the checker can tell exactly
// which writes landed (nothing lost, nothing applied twice) even when a response was lost.
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { fencedRead, fencedWrite } from '../lib/core/index.js';
import type { RegisterState } from './checker.js';

/** Where the register item lives. */
export interface RegisterTarget {
  tableName: string;
  /** Partition key value (attribute `id`): one register per scenario and seed. */
  id: string;
}

/** What a holder read when it claimed the register. */
export interface RegisterRead {
  value: number;
  log: number[];
}

/**
 * Reads and writes the register. `fenced` (the product) claims it with the holder's token and
 * writes through {@link fencedWrite}; unfenced (the negative control only) reads and puts
 * unconditionally, as code that ignores the token would.
 *
 * @example
 * const register = new Register(doc, { tableName: 'register', id: 'pause-1' }, true);
 * const seen = await register.claim(grant.token);
 * await register.write(grant.token, seen);
 */
export class Register {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly target: RegisterTarget,
    private readonly fenced: boolean,
  ) {}

  async claim(token: number): Promise<RegisterRead> {
    const key = { id: this.target.id };
    const item = this.fenced
      ? await fencedRead(this.client, { tableName: this.target.tableName, key, token })
      : ((
          await this.client.send(
            new GetCommand({ TableName: this.target.tableName, Key: key, ConsistentRead: true }),
          )
        ).Item ?? {});
    return {
      value: typeof item.value === 'number' ? item.value : 0,
      log: Array.isArray(item.log) ? (item.log as number[]) : [],
    };
  }

  /** Writes `seen.value + 1` and appends `token` to the log, as one item write. */
  async write(token: number, seen: RegisterRead): Promise<void> {
    const set = { value: seen.value + 1, log: [...seen.log, token] };
    if (this.fenced) {
      await fencedWrite(this.client, {
        tableName: this.target.tableName,
        key: { id: this.target.id },
        token,
        set,
      });
    } else {
      await this.client.send(
        new PutCommand({
          TableName: this.target.tableName,
          Item: { id: this.target.id, ...set, lockToken: token },
        }),
      );
    }
  }
}

/**
 * The register as it stands, read strongly consistent, or `null` if it was never touched.
 *
 * @example
 * const state = await readRegister(doc, { tableName: 'register', id: 'pause-1' });
 */
export async function readRegister(
  client: DynamoDBDocumentClient,
  target: RegisterTarget,
): Promise<RegisterState | null> {
  const { Item } = await client.send(
    new GetCommand({ TableName: target.tableName, Key: { id: target.id }, ConsistentRead: true }),
  );
  if (!Item) return null;
  return {
    value: typeof Item.value === 'number' ? Item.value : 0,
    log: Array.isArray(Item.log) ? (Item.log as number[]) : [],
  };
}
