import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { request } from './condition-failure.js';

/**
 * The stored item of a lock or a semaphore (one item per `lockId`). A lock has `owner`,
 * `expiresAt`, `leaseMs` and `data` while granted; a semaphore has its `permits` and two maps
 * keyed by `permitKey(owner)` (see semaphore-item.ts; never by the owner itself): `holders`
 * (each permit's owner and lease) and `permitTokens` (each permit's token), apart because a
 * permit's token is only known as the write computes it. `token` is the
 * fencing counter of both, never removed.
 */
export interface LockItem {
  lockId: string;
  token?: number;
  owner?: string;
  expiresAt?: number;
  leaseMs?: number;
  data?: string;
  ttl?: number;
  permits?: number;
  /** Epoch ms of the current grant (a lock's; a permit's is in its entry). */
  acquiredAt?: number;
  /** Times the lock changed hands (see `history.ts`); a semaphore's counts its new permits. */
  transitions?: number;
  /** Which owner had the last grant, as `{ [permitKey(owner)]: 0 }` (see `history.ts`). */
  lastHolder?: Record<string, number>;
  holders?: Record<string, PermitEntry>;
  permitTokens?: Record<string, number>;
}

/** One permit of a semaphore, under its owner's key in `holders`. */
export interface PermitEntry {
  owner: string;
  expiresAt: number;
  leaseMs: number;
  /** Epoch ms the permit was granted (absent on permits granted before it was recorded). */
  acquiredAt?: number;
  data?: string;
}

/**
 * Attribute names used in expressions; several (`owner`, `ttl`, `data`, `token`) are reserved
 * words. Each expression lists only the names it uses, as DynamoDB requires.
 */
export const ATTRIBUTE = {
  owner: 'owner',
  token: 'token',
  expiresAt: 'expiresAt',
  leaseMs: 'leaseMs',
  data: 'data',
  ttl: 'ttl',
  permits: 'permits',
  holders: 'holders',
  permitTokens: 'permitTokens',
  acquiredAt: 'acquiredAt',
  transitions: 'transitions',
  lastHolder: 'lastHolder',
} as const;

/** `{ '#owner': 'owner', ... }` for the named attributes. */
export const namesOf = (...attributes: (keyof typeof ATTRIBUTE)[]): Record<string, string> =>
  Object.fromEntries(attributes.map((name) => [`#${name}`, ATTRIBUTE[name]]));

/** What the lock, semaphore and owner-registry operations share. */
export interface TableContext {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Epoch ms now. */
  readonly clock: () => number;
  /** The TTL (epoch s) of an item whose last lease ends at `epochMs`: that plus the retention. */
  readonly ttlAfter: (epochMs: number) => number;
}

/**
 * The item of `lockId` by a strongly consistent read, or undefined when there is none.
 *
 * @example const item = await readLockItem<WaitedItem>(table, 'reports');
 */
export async function readLockItem<T extends LockItem>(
  table: Pick<TableContext, 'client' | 'tableName'>,
  lockId: string,
): Promise<T | undefined> {
  const { Item } = await request(() =>
    table.client.send(
      new GetCommand({ TableName: table.tableName, Key: { lockId }, ConsistentRead: true }),
    ),
  );
  return Item as T | undefined;
}
