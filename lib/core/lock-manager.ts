import { setTimeout as sleep } from 'node:timers/promises';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type Backoff, BACKOFF_DEFAULTS, backoffDelay } from './backoff.js';
import { failedItem, isConditionFailure, request } from './condition-failure.js';
import { createDocumentClient } from './dynamodb-client.js';
import { LockHeld, LockLost, ValidationError } from './errors.js';
import { LIMITS } from './limits.js';
import {
  type LockData,
  parseData,
  parseInteger,
  parseLeaseMs,
  parseLockId,
  parseOwner,
  parseToken,
  parseWaitMs,
} from './validation.js';

/** A lease on a lock, proven by its fencing token. */
export interface Grant {
  lockId: string;
  owner: string;
  /** Fencing token: strictly greater than every token issued before for this lock. */
  token: number;
  /** Epoch ms at which the lease ends unless renewed. */
  expiresAt: number;
  leaseMs: number;
}

/** What `get` sees of a lock. */
export interface LockState {
  lockId: string;
  /** True while an unexpired grant exists. */
  held: boolean;
  /** The holder, while held. */
  owner?: string;
  /** The last token issued for this lock (present whenever the lock has ever been granted and its item still exists). */
  token?: number;
  /** End of the current lease, while held. */
  expiresAt?: number;
  /** The holder's data, while held. */
  data?: LockData;
}

export interface AcquireOptions {
  /** Who asks: an execution ARN, a request id. A retry by the same owner gets the same grant back. */
  owner: string;
  /** @default the manager's `defaultLeaseMs` (30,000) */
  leaseMs?: number;
  /** How long to keep retrying while the lock is held. @default 0 (one attempt) */
  waitMs?: number;
  /** A small JSON object kept with the grant, at most 4 KB serialized. @default none */
  data?: LockData;
}

export interface RenewOptions {
  owner: string;
  token: number;
  /** @default the lease the grant was acquired with */
  leaseMs?: number;
}

export interface ReleaseOptions {
  owner: string;
  token: number;
}

/** What a release answers: false when the grant was no longer current (nothing changed). */
export interface ReleaseResult {
  released: boolean;
}

/** Something the manager did, for metrics and logs at the edge. */
export type LockEvent =
  | { type: 'granted'; lockId: string; owner: string; token: number; takeover: boolean }
  | { type: 'regranted'; lockId: string; owner: string; token: number }
  | { type: 'refused'; lockId: string; owner: string; holder: string }
  | { type: 'renewed'; lockId: string; owner: string; token: number }
  | { type: 'lost'; lockId: string; owner: string; token: number }
  | { type: 'released'; lockId: string; owner: string; token: number; released: boolean }
  | { type: 'forceReleased'; lockId: string; released: boolean };

export interface LockManagerOptions {
  /** Name of the locks table (partition key `lockId`, TTL attribute `ttl`). */
  tableName: string;
  /** @default a DocumentClient over `new DynamoDBClient({})` (the default AWS configuration) */
  client?: DynamoDBDocumentClient;
  /** Epoch ms now. @default Date.now */
  clock?: () => number;
  /** Lease of an acquire that names none, in ms. @default 30,000 */
  defaultLeaseMs?: number;
  /**
   * How long an unused lock item is kept after its lease ends or it is released, before
   * DynamoDB TTL may delete it. Token monotonicity across deletion assumes writers' clocks
   * agree to within this; keep it at an hour or more outside tests.
   * @default 3,600,000 (1 h)
   */
  retentionMs?: number;
  /** First backoff delay while waiting for a held lock, in ms. @default 50 */
  backoffBaseMs?: number;
  /** Longest backoff delay while waiting for a held lock, in ms. @default 1,000 */
  backoffMaxMs?: number;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number;
  /** Called after each operation; must not throw. @default none */
  onEvent?: (event: LockEvent) => void;
}

/** The stored item; `owner`, `expiresAt`, `leaseMs` and `data` exist only while granted. */
interface LockItem {
  lockId: string;
  token?: number;
  owner?: string;
  expiresAt?: number;
  leaseMs?: number;
  data?: string;
  ttl?: number;
}

/** Attribute names used in every expression; several (`owner`, `ttl`, `data`, `token`) are reserved words. */
const NAMES = {
  '#owner': 'owner',
  '#token': 'token',
  '#expiresAt': 'expiresAt',
  '#leaseMs': 'leaseMs',
  '#data': 'data',
  '#ttl': 'ttl',
};

/**
 * Fenced leases over one DynamoDB table: one conditional write per acquire, renew and release.
 *
 * @example
 * const locks = new LockManager({ tableName: 'locks' });
 * const grant = await locks.acquire('orders/42', { owner: 'worker-1', leaseMs: 10_000 });
 * try { await writeWithToken(grant.token); }
 * finally { await locks.release('orders/42', grant); }
 */
export class LockManager {
  readonly tableName: string;
  readonly client: DynamoDBDocumentClient;
  readonly defaultLeaseMs: number;
  readonly retentionMs: number;
  private readonly clock: () => number;
  private readonly backoff: Backoff;
  private readonly onEvent: (event: LockEvent) => void;

  constructor(options: LockManagerOptions) {
    if (typeof options?.tableName !== 'string' || options.tableName.length === 0) {
      throw new ValidationError('tableName', 'tableName must be a non-empty string');
    }
    this.tableName = options.tableName;
    this.client = options.client ?? createDocumentClient();
    this.clock = options.clock ?? Date.now;
    this.defaultLeaseMs = parseLeaseMs(
      options.defaultLeaseMs,
      LIMITS.leaseMsDefault,
      'defaultLeaseMs',
    );
    this.retentionMs = parseInteger(
      'retentionMs',
      options.retentionMs ?? LIMITS.retentionMsDefault,
      0,
      LIMITS.retentionMsMax,
    );
    const baseMs = parseInteger(
      'backoffBaseMs',
      options.backoffBaseMs ?? BACKOFF_DEFAULTS.baseMs,
      1,
      60_000,
    );
    const maxMs = parseInteger(
      'backoffMaxMs',
      options.backoffMaxMs ?? BACKOFF_DEFAULTS.maxMs,
      baseMs,
      60_000,
    );
    this.backoff = { baseMs, maxMs, random: options.random ?? Math.random };
    this.onEvent = options.onEvent ?? (() => {});
  }

  /**
   * Takes the lock if it is free or its lease has ended, otherwise throws {@link LockHeld}
   * (after retrying for up to `waitMs`). An owner that already holds the lock gets its
   * current grant back unchanged, so a retried acquire never deadlocks against itself.
   *
   * @example
   * const grant = await locks.acquire('reports', { owner: executionArn, waitMs: 5_000 });
   */
  async acquire(lockId: string, options: AcquireOptions): Promise<Grant> {
    const id = parseLockId(lockId);
    const owner = parseOwner(options?.owner);
    const leaseMs = parseLeaseMs(options.leaseMs, this.defaultLeaseMs);
    const waitMs = parseWaitMs(options.waitMs);
    const data = parseData(options.data);

    const deadline = this.clock() + waitMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.tryAcquire(id, owner, leaseMs, data);
      } catch (err) {
        if (!(err instanceof LockHeld)) throw err;
        const remaining = deadline - this.clock();
        if (remaining <= 0) throw err;
        await sleep(backoffDelay(attempt, this.backoff, err.retryAfterMs, remaining));
      }
    }
  }

  private async tryAcquire(
    lockId: string,
    owner: string,
    leaseMs: number,
    data: LockData | undefined,
  ): Promise<Grant> {
    const now = this.clock();
    const expiresAt = now + leaseMs;
    try {
      const { Attributes: old } = await request(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { lockId },
            // A new item's counter starts at the wall clock in ms: DynamoDB's per-item write
            // limit keeps every earlier item's counter below that, even one TTL has deleted.
            UpdateExpression:
              'SET #owner = :owner, #expiresAt = :expiresAt, #leaseMs = :leaseMs, #ttl = :ttl, ' +
              '#token = if_not_exists(#token, :now) + :one' +
              (data === undefined ? ' REMOVE #data' : ', #data = :data'),
            // Free (never granted, or released) or its lease has ended.
            ConditionExpression: 'attribute_not_exists(#owner) OR #expiresAt <= :now',
            ExpressionAttributeNames: NAMES,
            ExpressionAttributeValues: {
              ':owner': owner,
              ':expiresAt': expiresAt,
              ':leaseMs': leaseMs,
              ':ttl': this.ttlAfter(expiresAt),
              ':now': now,
              ':one': 1,
              ...(data === undefined ? {} : { ':data': JSON.stringify(data) }),
            },
            // The old item tells us the new token (old + 1, or now + 1) and whether this was a
            // takeover, without a second request.
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      const previous = old as LockItem | undefined;
      const token = (previous?.token ?? now) + 1;
      this.onEvent({
        type: 'granted',
        lockId,
        owner,
        token,
        takeover: previous?.owner !== undefined,
      });
      return { lockId, owner, token, expiresAt, leaseMs };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const holder = failedItem<LockItem>(err);
      if (holder?.owner === undefined || holder.expiresAt === undefined) throw err;
      if (holder.owner === owner && holder.token !== undefined) {
        this.onEvent({ type: 'regranted', lockId, owner, token: holder.token });
        return {
          lockId,
          owner,
          token: holder.token,
          expiresAt: holder.expiresAt,
          leaseMs: holder.leaseMs ?? holder.expiresAt - now,
        };
      }
      this.onEvent({ type: 'refused', lockId, owner, holder: holder.owner });
      throw new LockHeld(lockId, {
        owner: holder.owner,
        expiresAt: holder.expiresAt,
        retryAfterMs: Math.max(0, holder.expiresAt - now),
      });
    }
  }

  /**
   * Extends the lease of a grant that is still current (owner and token both match).
   * Throws {@link LockLost} otherwise, changing nothing.
   *
   * @example
   * const renewed = await locks.renew('reports', { owner: grant.owner, token: grant.token });
   */
  async renew(lockId: string, options: RenewOptions): Promise<Grant> {
    const id = parseLockId(lockId);
    const owner = parseOwner(options?.owner);
    const token = parseToken(options.token);
    const leaseMs =
      options.leaseMs === undefined
        ? undefined
        : parseLeaseMs(options.leaseMs, this.defaultLeaseMs);
    const now = this.clock();
    // Without a new lease, the stored one is reused in the same write; the TTL then allows for
    // the longest lease, since an expression cannot divide ms into seconds.
    const values =
      leaseMs === undefined
        ? {
            update: 'SET #expiresAt = :now + #leaseMs, #ttl = :ttl',
            values: { ':now': now, ':ttl': this.ttlAfter(now + LIMITS.leaseMsMax) },
          }
        : {
            update: 'SET #expiresAt = :expiresAt, #leaseMs = :leaseMs, #ttl = :ttl',
            values: {
              ':expiresAt': now + leaseMs,
              ':leaseMs': leaseMs,
              ':ttl': this.ttlAfter(now + leaseMs),
            },
          };
    try {
      const { Attributes } = await request(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { lockId: id },
            UpdateExpression: values.update,
            // Same owner and token: nobody has acquired since, because every grant bumps the
            // token, so renewing even a just-expired lease cannot create a second holder.
            ConditionExpression: '#owner = :owner AND #token = :token',
            ExpressionAttributeNames: {
              '#owner': 'owner',
              '#token': 'token',
              '#expiresAt': 'expiresAt',
              '#leaseMs': 'leaseMs',
              '#ttl': 'ttl',
            },
            ExpressionAttributeValues: { ':owner': owner, ':token': token, ...values.values },
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
      );
      // UPDATED_NEW always carries expiresAt: both update expressions set it.
      const { expiresAt } = Attributes as Required<Pick<LockItem, 'expiresAt'>>;
      this.onEvent({ type: 'renewed', lockId: id, owner, token });
      return {
        lockId: id,
        owner,
        token,
        expiresAt,
        leaseMs: leaseMs ?? expiresAt - now,
      };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      this.onEvent({ type: 'lost', lockId: id, owner, token });
      throw new LockLost(id, undefined, { cause: err });
    }
  }

  /**
   * Ends a grant that is still current. Returns `{ released: false }`, changing nothing, when
   * the grant is no longer current (already released, taken over), so a retry is harmless.
   * The item stays, keeping the token counter.
   *
   * @example
   * await locks.release('reports', { owner: grant.owner, token: grant.token });
   */
  async release(lockId: string, options: ReleaseOptions): Promise<ReleaseResult> {
    const id = parseLockId(lockId);
    const owner = parseOwner(options?.owner);
    const token = parseToken(options.token);
    try {
      await request(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { lockId: id },
            UpdateExpression: 'REMOVE #owner, #expiresAt, #leaseMs, #data SET #ttl = :ttl',
            ConditionExpression: '#owner = :owner AND #token = :token',
            ExpressionAttributeNames: NAMES,
            ExpressionAttributeValues: {
              ':owner': owner,
              ':token': token,
              ':ttl': this.ttlAfter(this.clock()),
            },
          }),
        ),
      );
      this.onEvent({ type: 'released', lockId: id, owner, token, released: true });
      return { released: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      this.onEvent({ type: 'released', lockId: id, owner, token, released: false });
      return { released: false };
    }
  }

  /**
   * Operator release: ends whatever grant exists and bumps the token, so the evicted holder's
   * token is stale at once for renew, release and fenced writes.
   *
   * @example
   * const { released } = await locks.forceRelease('reports');
   */
  async forceRelease(lockId: string): Promise<ReleaseResult> {
    const id = parseLockId(lockId);
    try {
      await request(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { lockId: id },
            UpdateExpression:
              'REMOVE #owner, #expiresAt, #leaseMs, #data SET #ttl = :ttl, #token = #token + :one',
            ConditionExpression: 'attribute_exists(#owner)',
            ExpressionAttributeNames: NAMES,
            ExpressionAttributeValues: { ':ttl': this.ttlAfter(this.clock()), ':one': 1 },
          }),
        ),
      );
      this.onEvent({ type: 'forceReleased', lockId: id, released: true });
      return { released: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      this.onEvent({ type: 'forceReleased', lockId: id, released: false });
      return { released: false };
    }
  }

  /**
   * Reads the lock with a strongly consistent read.
   *
   * @example
   * const { held, owner } = await locks.get('reports');
   */
  async get(lockId: string): Promise<LockState> {
    const id = parseLockId(lockId);
    const { Item } = await request(() =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { lockId: id }, ConsistentRead: true }),
      ),
    );
    const item = Item as LockItem | undefined;
    const now = this.clock();
    const held = item?.owner !== undefined && item.expiresAt !== undefined && item.expiresAt > now;
    if (!item) return { lockId: id, held: false };
    if (!held)
      return { lockId: id, held, ...(item.token === undefined ? {} : { token: item.token }) };
    return {
      lockId: id,
      held,
      owner: item.owner,
      token: item.token,
      expiresAt: item.expiresAt,
      ...(item.data === undefined ? {} : { data: JSON.parse(item.data) as LockData }),
    };
  }

  private ttlAfter(epochMs: number): number {
    return Math.ceil((epochMs + this.retentionMs) / 1000);
  }
}
