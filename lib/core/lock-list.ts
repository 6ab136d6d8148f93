// Listing the locks of a table, for operators: a paged Scan. A Scan reads every item of the
// table whatever the filter (the filter only drops items from the answer, not from the bill), so
// one full listing costs about (table size / 4 KB) / 2 read units, eventually consistent: some
// 20 to 30 per 1,000 small locks (the bench's `list` section measures it). docs/operations.md
// says when an index would pay off and why there is none.
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { request } from './condition-failure.js';
import { ValidationError } from './errors.js';
import { LIMITS } from './limits.js';
import type { TableContext } from './lock-item.js';
import type { LockState } from './lock-manager.js';
import { parseInteger, parseName, RESERVED_LOCK_ID_PREFIX } from './validation.js';
import type { WaitedItem } from './waiting.js';

/** What `list` takes. */
export interface ListOptions {
  /** Only lock ids that start with this. @default every lock */
  prefix?: string;
  /** Most locks in one page, 1 to 1,000. @default 100 */
  limit?: number;
  /** Where the page starts: the `cursor` of the page before. @default the first page */
  cursor?: string;
}

/** One page of locks. */
export interface ListResult {
  /** The locks of this page (free ones included), each as `get` shows it. */
  locks: LockState[];
  /**
   * Present while there may be more: pass it back for the next page. A page may hold fewer
   * than `limit` locks, even none, and still have a cursor (the filter acts after the read).
   */
  cursor?: string;
}

/** Scan requests one page may send: bounds a call's time when few items match the prefix. */
const MAX_SCANS_PER_PAGE = 10;

/** Checks `list`'s options. @example parseListOptions({ prefix: 'orders/', limit: 50 }) */
export function parseListOptions(options: ListOptions | undefined): Required<
  Pick<ListOptions, 'limit'>
> & {
  prefix?: string;
  start?: Record<string, string>;
} {
  const input = options ?? {};
  const limit = parseInteger(
    'limit',
    input.limit ?? LIMITS.listLimitDefault,
    1,
    LIMITS.listLimitMax,
  );
  let prefix: string | undefined;
  if (input.prefix !== undefined) {
    prefix = parseName('prefix', input.prefix, LIMITS.lockIdMaxBytes);
    if (prefix.startsWith(RESERVED_LOCK_ID_PREFIX)) {
      throw new ValidationError('prefix', 'prefix must not start with U+0000 (reserved)');
    }
  }
  return {
    limit,
    ...(prefix === undefined ? {} : { prefix }),
    ...(input.cursor === undefined ? {} : { start: decodeCursor(input.cursor) }),
  };
}

// The cursor is the key the Scan stopped at, opaque to callers: base64url of its JSON.
const encodeCursor = (key: Record<string, unknown>): string =>
  Buffer.from(JSON.stringify([key.lockId]), 'utf8').toString('base64url');

function decodeCursor(cursor: unknown): Record<string, string> {
  const lockId = (() => {
    if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 4 * 1024) return;
    try {
      const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (Array.isArray(parsed) && parsed.length === 1 && typeof parsed[0] === 'string')
        return parsed[0] as string;
    } catch {
      // Refused below, naming the field.
    }
    return undefined;
  })();
  if (lockId === undefined || lockId.length === 0 || !lockId.isWellFormed()) {
    throw new ValidationError('cursor', 'cursor must be the cursor of a page list returned');
  }
  return { lockId };
}

/**
 * One page of the table's locks, never the owner registry's items (reserved keys). Up to
 * {@link MAX_SCANS_PER_PAGE} Scan requests, each asking for no more than the page still needs,
 * so every lock it returns lies before the key the cursor names.
 *
 * @example const { locks, cursor } = await listLocks(table, { prefix: 'orders/' }, toState);
 */
export async function listLocks(
  table: TableContext,
  options: ListOptions | undefined,
  toState: (lockId: string, item: WaitedItem, now: number) => LockState,
): Promise<ListResult> {
  const { limit, prefix, start } = parseListOptions(options);
  const locks: LockState[] = [];
  let key: Record<string, unknown> | undefined = start;
  for (let scans = 0; scans < MAX_SCANS_PER_PAGE && locks.length < limit; scans++) {
    const page = await request(() =>
      table.client.send(
        new ScanCommand({
          TableName: table.tableName,
          Limit: limit - locks.length,
          FilterExpression:
            'NOT begins_with(#lockId, :reserved)' +
            (prefix === undefined ? '' : ' AND begins_with(#lockId, :prefix)'),
          ExpressionAttributeNames: { '#lockId': 'lockId' },
          ExpressionAttributeValues: {
            ':reserved': RESERVED_LOCK_ID_PREFIX,
            ...(prefix === undefined ? {} : { ':prefix': prefix }),
          },
          ...(key === undefined ? {} : { ExclusiveStartKey: key }),
        }),
      ),
    );
    const now = table.clock();
    for (const item of (page.Items ?? []) as WaitedItem[]) {
      locks.push(toState(item.lockId, item, now));
    }
    key = page.LastEvaluatedKey;
    if (key === undefined) break;
  }
  return { locks, ...(key === undefined ? {} : { cursor: encodeCursor(key) }) };
}
