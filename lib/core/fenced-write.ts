import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { isConditionFailure } from './condition-failure.js';
import { FencedOut, ValidationError } from './errors.js';
import { parseToken } from './validation.js';

/** Where the protected item is and which token is presented. */
export interface FencedTarget {
  /** The user's table holding the protected item. */
  tableName: string;
  /** The item's full primary key. */
  key: Record<string, NativeAttributeValue>;
  /** The fencing token of the caller's grant. */
  token: number;
  /** Attribute of the item that remembers the highest token it has accepted. @default 'lockToken' */
  tokenAttribute?: string;
}

export interface FencedWriteInput extends FencedTarget {
  /** Attributes to set in the same conditional write. @default {} */
  set?: Record<string, NativeAttributeValue>;
  /** Attributes to remove in the same conditional write. @default [] */
  remove?: string[];
}

type Item = Record<string, NativeAttributeValue>;

/**
 * Writes the protected item only if `token` is not lower than any token it has accepted, and
 * records `token` as accepted. Throws {@link FencedOut}, changing nothing, for a stale token.
 *
 * @example
 * await fencedWrite(docClient, {
 *   tableName: 'orders', key: { id: '42' }, token: grant.token, set: { status: 'shipped' },
 * });
 */
export async function fencedWrite(
  client: DynamoDBDocumentClient,
  input: FencedWriteInput,
): Promise<Item> {
  const set = input.set ?? {};
  const remove = input.remove ?? [];
  const tokenAttribute = input.tokenAttribute ?? 'lockToken';
  if (tokenAttribute in set || remove.includes(tokenAttribute)) {
    throw new ValidationError('set', `the fenced write owns attribute "${tokenAttribute}"`);
  }
  const names: Record<string, string> = {};
  const values: Record<string, NativeAttributeValue> = {};
  const assignments = Object.entries(set).map(([name, value], i) => {
    names[`#s${i}`] = name;
    values[`:s${i}`] = value;
    return `#s${i} = :s${i}`;
  });
  const removals = remove.map((name, i) => {
    names[`#r${i}`] = name;
    return `#r${i}`;
  });
  return fencedUpdate(client, input, {
    set: assignments,
    remove: removals,
    names,
    values,
  });
}

/**
 * A fenced read (a claim): raises the item's accepted token to `token` and returns the item.
 * From then on every write with an older token is refused, so a read-modify-write that starts
 * with a claim cannot lose an update to a paused former holder's late write.
 *
 * @example
 * const item = await fencedRead(docClient, { tableName: 'counters', key: { id: 'c' }, token });
 * await fencedWrite(docClient, { ...target, set: { value: (item.value ?? 0) + 1 } });
 */
export async function fencedRead(
  client: DynamoDBDocumentClient,
  target: FencedTarget,
): Promise<Item> {
  return fencedUpdate(client, target, { set: [], remove: [], names: {}, values: {} });
}

async function fencedUpdate(
  client: DynamoDBDocumentClient,
  target: FencedTarget,
  parts: {
    set: string[];
    remove: string[];
    names: Record<string, string>;
    values: Record<string, NativeAttributeValue>;
  },
): Promise<Item> {
  const token = parseToken(target.token);
  const set = ['#fenceToken = :fenceToken', ...parts.set].join(', ');
  const remove = parts.remove.length > 0 ? ` REMOVE ${parts.remove.join(', ')}` : '';
  try {
    const { Attributes } = await client.send(
      new UpdateCommand({
        TableName: target.tableName,
        Key: target.key,
        UpdateExpression: `SET ${set}${remove}`,
        // Equal tokens pass: the current holder may write many times.
        ConditionExpression: 'attribute_not_exists(#fenceToken) OR #fenceToken <= :fenceToken',
        ExpressionAttributeNames: {
          '#fenceToken': target.tokenAttribute ?? 'lockToken',
          ...parts.names,
        },
        ExpressionAttributeValues: { ':fenceToken': token, ...parts.values },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return Attributes ?? {};
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const accepted = err.Item?.[target.tokenAttribute ?? 'lockToken']?.N;
    throw new FencedOut(token, accepted === undefined ? Number.NaN : Number(accepted), {
      cause: err,
    });
  }
}
