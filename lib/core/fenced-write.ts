import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { isConditionFailure } from './condition-failure.js';
import { FencedOut, FencedWriteRejected, ValidationError } from './errors.js';
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
  /**
   * Attributes to set in the same conditional write. An `undefined` value is skipped at every
   * depth, as the DocumentClient's `removeUndefinedValues` does: a top-level one leaves that
   * attribute as it is (name it in `remove` to delete it), a nested one is left out of its
   * map, list or set. @default {}
   */
  set?: Record<string, NativeAttributeValue>;
  /** Attributes to remove in the same conditional write. @default [] */
  remove?: string[];
}

type Item = Record<string, NativeAttributeValue>;

/** DynamoDB's own `ValidationException` (by name: a second copy of the SDK may have built it). */
const isDynamoDbValidation = (err: unknown): err is Error =>
  err instanceof Error && err.name === 'ValidationException';

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
  const assignments = Object.entries(set)
    .filter(([, value]) => value !== undefined)
    .map(([name, value], i) => {
      names[`#s${i}`] = name;
      values[`:s${i}`] = withoutUndefined(value);
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

const isPlainObject = (value: object): value is Record<string, NativeAttributeValue> => {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * `value` with every nested `undefined` left out, whatever the client's marshall options: a
 * client without `removeUndefinedValues` would refuse them, one with it would drop them, and
 * the fenced write behaves the same with both. Copies only what it changes; rebuilt maps use
 * `Object.fromEntries`, which defines each caller's key as an own property (`__proto__` too).
 */
function withoutUndefined(value: NativeAttributeValue): NativeAttributeValue {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    return value.filter((item) => item !== undefined).map(withoutUndefined);
  }
  if (value instanceof Set) return new Set([...value].filter((item) => item !== undefined));
  if (value instanceof Map) {
    return new Map(
      [...(value as Map<string, NativeAttributeValue>)]
        .filter(([, item]) => item !== undefined)
        .map(([key, item]) => [key, withoutUndefined(item)]),
    );
  }
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => [key, withoutUndefined(item)]),
  );
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
    if (isDynamoDbValidation(err)) {
      throw new FencedWriteRejected(target.tableName, err.message, { cause: err });
    }
    if (!isConditionFailure(err)) throw err;
    const accepted = err.Item?.[target.tokenAttribute ?? 'lockToken']?.N;
    throw new FencedOut(token, accepted === undefined ? Number.NaN : Number(accepted), {
      cause: err,
    });
  }
}
