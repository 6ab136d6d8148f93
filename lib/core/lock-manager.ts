import { setTimeout as sleep } from 'node:timers/promises';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type Backoff, BACKOFF_DEFAULTS, backoffDelay } from './backoff.js';
import { failedItem, isConditionFailure, request } from './condition-failure.js';
import { createDocumentClient } from './dynamodb-client.js';
import { LockHeld, LockLost, ValidationError } from './errors.js';
import { LIMITS } from './limits.js';
import { parseRequestTimeoutMs, withRequestTimeout } from './request-timeout.js';
import { type LockItem, namesOf, readLockItem, type TableContext } from './lock-item.js';
import {
  isFree,
  slotCondition,
  slotStaleAt,
  slotTakenByOther,
  type WaitedItem,
  waitingIn,
  Waiter,
  WAITING,
  wakeSlotHolder,
} from './waiting.js';
import { historyUpdate } from './history.js';
import { type ListOptions, listLocks, type ListResult } from './lock-list.js';
import { type HoldingKind, OwnerRegistry } from './owner-registry.js';
import { ReturningCallers } from './returning-callers.js';
import { type PermitHolder, Semaphores, semaphoreState } from './semaphore.js';
import { checkPermitFits, permitOf } from './semaphore-item.js';
import {
  type LockData,
  parseData,
  parseFlag,
  parseInteger,
  parseLeaseMs,
  parseLockId,
  parseOwner,
  parsePermits,
  parseToken,
  parseWaitMs,
} from './validation.js';

export type { ListOptions, ListResult, LockData, PermitHolder };

/** A lease on a lock, or on one permit of a semaphore, proven by its fencing token. */
export interface Grant {
  lockId: string;
  owner: string;
  /** Fencing token: strictly greater than every token issued before for this lock. */
  token: number;
  /** Epoch ms at which the lease ends unless renewed. */
  expiresAt: number;
  leaseMs: number;
  /** A semaphore's number of permits (a permit's grant only). */
  permits?: number;
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
  /** The current lease's length in ms, while held. */
  leaseMs?: number;
  /** Epoch ms the current grant began, while held (a permit's is in its holder). */
  acquiredAt?: number;
  /**
   * Times the lock changed hands: a grant to an owner other than the last one's (a takeover, a
   * handoff after a release or force release); 0 for the first. A semaphore's counts every
   * permit granted to a new holder. Absent on items last granted before it was recorded.
   */
  transitions?: number;
  /** The holder's data, while held. */
  data?: LockData;
  /** Live callers waiting first and second in line for the lock (1 or 2; a lock's waiting acquires). */
  waiting?: number;
  /** A semaphore's number of permits (semaphores only, as are the next two). */
  permits?: number;
  /** Permits free now. */
  available?: number;
  /** The unexpired permits, the one that ends first first. */
  holders?: PermitHolder[];
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
  /**
   * Makes `lockId` a semaphore of this many permits (1 to 1,000) and takes one: at most
   * `permits` owners hold it at once, each with its own lease and token. Every caller of one
   * semaphore must give the same number.
   * @default none: a lock (one holder)
   */
  permits?: number;
  /**
   * Registers the grant under its owner first (one more write), so that
   * {@link LockManager.releaseAllHeldBy} finds it: for owners that may end without releasing,
   * such as Step Functions executions (`LockedSection` sets it).
   * @default false
   */
  trackOwner?: boolean;
}

export interface RenewOptions {
  owner: string;
  token: number;
  /** @default the lease the grant was acquired with */
  leaseMs?: number;
  /** The grant's `permits`, for a semaphore's permit: it saves a request. @default from the item */
  permits?: number;
}

export interface ReleaseOptions {
  owner: string;
  token: number;
  /** The grant's `permits`, for a semaphore's permit: it saves a request. @default from the item */
  permits?: number;
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
  | { type: 'forceReleased'; lockId: string; released: boolean }
  | { type: 'ownerReleased'; owner: string; lockIds: string[] };

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
  /**
   * How long one DynamoDB request may take (the SDK's retries included) before the call fails
   * with `LockServiceUnavailable`, in ms. An acquire returns within `waitMs` plus this; renew,
   * release and get within this (a semaphore's contended write, retried, within a few times it).
   * Applies to `client` too, without changing it.
   * @default 3,000
   */
  requestTimeoutMs?: number;
}

const NAMES = namesOf('owner', 'token', 'expiresAt', 'leaseMs', 'data', 'ttl');

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
  private readonly semaphores: Semaphores;
  private readonly owners: OwnerRegistry;
  private readonly table: TableContext;
  private readonly returning = new ReturningCallers();

  constructor(options: LockManagerOptions) {
    if (typeof options?.tableName !== 'string' || options.tableName.length === 0) {
      throw new ValidationError('tableName', 'tableName must be a non-empty string');
    }
    this.tableName = options.tableName;
    this.client = withRequestTimeout(
      options.client ?? createDocumentClient(),
      parseRequestTimeoutMs(options.requestTimeoutMs),
    );
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
    this.table = {
      client: this.client,
      tableName: this.tableName,
      clock: this.clock,
      ttlAfter: (epochMs) => this.ttlAfter(epochMs),
    };
    this.semaphores = new Semaphores(this.table, (event) => this.onEvent(event));
    this.owners = new OwnerRegistry(this.table);
  }

  /**
   * Takes the lock if it is free or its lease has ended, otherwise throws {@link LockHeld}
   * (after retrying for up to `waitMs`). An owner that already holds the lock gets its
   * current grant back unchanged, so a retried acquire never deadlocks against itself. With
   * `permits`, takes one permit of a semaphore the same way; a full semaphore's `LockHeld`
   * names the permit that ends first.
   *
   * @example
   * const grant = await locks.acquire('reports', { owner: executionArn, waitMs: 5_000 });
   * const permit = await locks.acquire('partner-api', { owner: requestId, permits: 5 });
   */
  async acquire(lockId: string, options: AcquireOptions): Promise<Grant> {
    const id = parseLockId(lockId);
    const owner = parseOwner(options?.owner);
    const leaseMs = parseLeaseMs(options.leaseMs, this.defaultLeaseMs);
    const waitMs = parseWaitMs(options.waitMs);
    const data = parseData(options.data);
    const permits = options.permits === undefined ? undefined : parsePermits(options.permits);
    const track =
      options.trackOwner === undefined ? false : parseFlag('trackOwner', options.trackOwner);

    if (permits !== undefined) checkPermitFits(id, owner, permits, data);

    const kind: HoldingKind = permits === undefined ? 'locks' : 'semaphores';
    if (track) await this.owners.register(owner, id, kind);
    const deadline = this.clock() + waitMs;
    if (permits !== undefined) {
      return this.waitWithBackoff(deadline, () =>
        this.semaphores.tryAcquire(id, owner, permits, leaseMs, data),
      );
    }
    // Asking again for a lock just released into contention: behind those already waiting,
    // without the first attempt that would win it back from them.
    const deferMs = waitMs > 0 ? this.returning.takeDeferMs(id, this.clock()) : 0;
    if (deferMs > 0) {
      return this.waitForLock(id, owner, leaseMs, data, deadline, { lockId: id }, deferMs);
    }
    const first = await this.tryAcquire(id, owner, leaseMs, data);
    if ('grant' in first) return first.grant;
    if (deadline <= this.clock()) throw first.refused;
    return this.waitForLock(id, owner, leaseMs, data, deadline, first.item, 0);
  }

  /**
   * Waits for a held lock (see waiting.ts): takes a slot of the line when one is empty, silent
   * or held by a caller that came later, looks again as often as its place calls for, and
   * takes the lock once it is free and the first slot is its own, empty or silent. Every turn of
   * the loop sleeps, and the deadline ends it on every path.
   */
  private async waitForLock(
    lockId: string,
    owner: string,
    leaseMs: number,
    data: LockData | undefined,
    deadline: number,
    refused: WaitedItem,
    deferMs: number,
  ): Promise<Grant> {
    const waiter = new Waiter(this.table, lockId, owner, deferMs);
    let item = refused;
    // One grant attempt; a refusal answers with the item as it is.
    const attempt = async (): Promise<Grant | undefined> => {
      const outcome = await this.tryAcquire(lockId, owner, leaseMs, data);
      if (!('grant' in outcome)) {
        item = outcome.item;
        return undefined;
      }
      this.returning.noteContendedGrant(lockId, outcome.grant.token, this.clock());
      await waiter.leaveAfterGrant(item);
      return outcome.grant;
    };
    for (let fresh = true; ; fresh = false) {
      // A request that fails ends the wait at once (its slot goes silent on its own): the call
      // returns within the request timeout, with no further request to a DynamoDB that does
      // not answer.
      if (!fresh) {
        const remaining = deadline - this.clock();
        await waiter.sleep(waiter.delay(item, this.clock(), remaining));
        if (waiter.pollsByAttempt(item, this.clock())) {
          const grant = await attempt();
          if (grant) return grant;
        } else {
          item = await waiter.look(item);
        }
      }
      const now = this.clock();
      if (waiter.mayTake(item, now)) {
        const grant = await attempt();
        if (grant) return grant;
      } else {
        const claim = waiter.slotToClaim(item, now);
        if (claim !== undefined) item = await waiter.claim(claim, item);
      }
      if (deadline <= this.clock()) {
        // Giving up: empty this caller's slot, so nobody waits for it to go silent.
        await waiter.leave(item);
        throw refusal(lockId, item, this.clock(), owner);
      }
    }
  }

  /** A semaphore's wait: jittered backoff, never past the end of the earliest permit. */
  private async waitWithBackoff(deadline: number, attempt: () => Promise<Grant>): Promise<Grant> {
    for (let tries = 0; ; tries++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof LockHeld)) throw err;
        const remaining = deadline - this.clock();
        if (remaining <= 0) throw err;
        await sleep(backoffDelay(tries, this.backoff, err.retryAfterMs, remaining));
      }
    }
  }

  /**
   * One acquire write: a grant, the holder's own grant back, or the refusal with the item that
   * refused it. A free lock is refused only to make way for a live caller waiting next in line.
   */
  private async tryAcquire(
    lockId: string,
    owner: string,
    leaseMs: number,
    data: LockData | undefined,
  ): Promise<{ grant: Grant } | { refused: LockHeld; item: WaitedItem }> {
    const now = this.clock();
    const expiresAt = now + leaseMs;
    const slot = slotCondition(now);
    const history = historyUpdate(owner);
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
              (data === undefined ? '' : ', #data = :data') +
              history.set +
              slot.set +
              ` REMOVE ${slot.remove}` +
              (data === undefined ? ', #data' : ''),
            // Free (never granted, or released) or its lease has ended; not a semaphore; and no
            // live caller next in line but this one (whose successor, if any, moves up).
            ConditionExpression:
              '(attribute_not_exists(#owner) OR #expiresAt <= :now) AND attribute_not_exists(#holders) AND ' +
              slot.condition,
            ExpressionAttributeNames: {
              ...NAMES,
              ...namesOf('holders'),
              ...slot.names,
              ...history.names,
            },
            ExpressionAttributeValues: {
              ':owner': owner,
              ':expiresAt': expiresAt,
              ':leaseMs': leaseMs,
              ':ttl': this.ttlAfter(expiresAt),
              ':now': now,
              ':one': 1,
              ...slot.values,
              ...history.values,
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
      const takeover = previous?.owner !== undefined;
      this.onEvent({ type: 'granted', lockId, owner, token, takeover });
      return { grant: { lockId, owner, token, expiresAt, leaseMs } };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const item = failedItem<WaitedItem>(err) ?? { lockId };
      if (item.holders) {
        throw new ValidationError(
          'permits',
          `"${lockId}" is a semaphore of ${item.permits} permits: acquire it with permits`,
        );
      }
      if (item.owner === owner && item.token !== undefined && (item.expiresAt ?? 0) > now) {
        this.onEvent({ type: 'regranted', lockId, owner, token: item.token });
        return {
          grant: {
            lockId,
            owner,
            token: item.token,
            expiresAt: item.expiresAt ?? now,
            leaseMs: item.leaseMs ?? (item.expiresAt ?? now) - now,
          },
        };
      }
      const refused = refusal(lockId, item, now, owner);
      this.onEvent({ type: 'refused', lockId, owner, holder: refused.owner });
      return { refused, item };
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
    if (options.permits !== undefined) {
      const permits = parsePermits(options.permits);
      return this.semaphores.renew(id, owner, token, leaseMs, permits);
    }
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
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
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
      // A semaphore's permit renewed without its grant's `permits`: one more request.
      if (isPermitOf(failedItem<LockItem>(err), owner)) {
        return this.semaphores.renew(id, owner, token, leaseMs, undefined);
      }
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
    if (options.permits !== undefined) {
      const permits = parsePermits(options.permits);
      return this.semaphores.release(id, owner, token, permits);
    }
    const now = this.clock();
    try {
      const { Attributes: released } = await request(() =>
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
              ':ttl': this.ttlAfter(now),
            },
            // The slot as the release left it: the caller next in line may sleep in this process.
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      const left = (released ?? { lockId: id }) as WaitedItem;
      wakeSlotHolder(this.table, id, left);
      this.returning.noteRelease(id, token, slotTakenByOther(left, owner, now), now);
      this.onEvent({ type: 'released', lockId: id, owner, token, released: true });
      return { released: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      if (isPermitOf(failedItem<LockItem>(err), owner)) {
        return this.semaphores.release(id, owner, token, undefined);
      }
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
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      this.onEvent({ type: 'forceReleased', lockId: id, released: true });
      return { released: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const result = failedItem<LockItem>(err)?.holders
        ? await this.semaphores.forceRelease(id)
        : { released: false };
      this.onEvent({ type: 'forceReleased', lockId: id, ...result });
      return result;
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
    const item = await readLockItem<WaitedItem>(this.table, id);
    if (!item) return { lockId: id, held: false };
    return lockState(id, item, this.clock());
  }

  /**
   * One page of the table's locks and semaphores, free ones included, each as {@link get} shows
   * it, in no particular order; the owner registry's items never appear. Pass `cursor` back for
   * the next page. A Scan: it reads the whole table over all pages whatever the prefix (some
   * 20 to 30 read units per 1,000 small locks), so it is for operators, not for a hot path.
   *
   * @example
   * for (let page = await locks.list({ prefix: 'orders/' }); ; page = await locks.list({ prefix: 'orders/', cursor: page.cursor })) {
   *   console.log(page.locks);
   *   if (!page.cursor) break;
   * }
   */
  list(options?: ListOptions): Promise<ListResult> {
    return listLocks(this.table, options, lockState);
  }

  /**
   * Releases every lock and permit that `owner` acquired with `trackOwner`, whatever the
   * tokens, and ends the owner: a later tracked acquire by it is refused with `LockLost`. For
   * the cleanup of a Step Functions execution that ended without running its own release.
   * Costs one write to end the owner plus one per lock or semaphore it registered.
   *
   * @example
   * const { released } = await locks.releaseAllHeldBy(executionArn);
   */
  async releaseAllHeldBy(owner: string): Promise<{ released: string[] }> {
    const who = parseOwner(owner);
    const { locks, semaphores } = await this.owners.end(who);
    const outcomes = await Promise.all([
      ...locks.map(async (lockId) => [lockId, await this.releaseLockOf(lockId, who)] as const),
      ...semaphores.map(
        async (lockId) => [lockId, await this.semaphores.releaseOwner(lockId, who)] as const,
      ),
    ]);
    const released = outcomes.filter(([, done]) => done).map(([lockId]) => lockId);
    this.onEvent({ type: 'ownerReleased', owner: who, lockIds: released });
    return { released };
  }

  /** Ends the owner's grant of a lock, whatever its token. */
  private async releaseLockOf(lockId: string, owner: string): Promise<boolean> {
    try {
      await request(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { lockId },
            UpdateExpression: 'REMOVE #owner, #expiresAt, #leaseMs, #data SET #ttl = :ttl',
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: namesOf('owner', 'expiresAt', 'leaseMs', 'data', 'ttl'),
            ExpressionAttributeValues: { ':owner': owner, ':ttl': this.ttlAfter(this.clock()) },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return false;
    }
  }

  private ttlAfter(epochMs: number): number {
    return Math.ceil((epochMs + this.retentionMs) / 1000);
  }
}

/**
 * What `get` (and `list`) show of an item: a semaphore's permits, or a lock's holder, lease,
 * history and waiting callers.
 */
export function lockState(lockId: string, item: WaitedItem, now: number): LockState {
  if (item.holders) return semaphoreState(lockId, item, now);
  const held = item.owner !== undefined && item.expiresAt !== undefined && item.expiresAt > now;
  const waiting = waitingIn(item, now);
  const transitions = item.transitions === undefined ? {} : { transitions: item.transitions };
  const queue = waiting > 0 ? { waiting } : {};
  if (!held) {
    return {
      lockId,
      held,
      ...(item.token === undefined ? {} : { token: item.token }),
      ...transitions,
      ...queue,
    };
  }
  return {
    lockId,
    held,
    owner: item.owner,
    token: item.token,
    expiresAt: item.expiresAt,
    ...(item.leaseMs === undefined ? {} : { leaseMs: item.leaseMs }),
    ...(item.acquiredAt === undefined ? {} : { acquiredAt: item.acquiredAt }),
    ...transitions,
    ...(item.data === undefined ? {} : { data: JSON.parse(item.data) as LockData }),
    ...queue,
  };
}

/** True when a refused lock write found a semaphore in which `owner` holds a permit. */
const isPermitOf = (item: LockItem | undefined, owner: string): boolean =>
  permitOf(item, owner) !== undefined;

/**
 * The refusal an item shows `owner`: its holder and lease end; or, for a free lock, the live
 * caller waiting next in line that may take it first, and when that caller would count as gone.
 */
function refusal(lockId: string, item: WaitedItem, now: number, owner: string): LockHeld {
  if (!isFree(item, now)) {
    const expiresAt = item.expiresAt ?? now;
    return new LockHeld(lockId, {
      owner: item.owner ?? '',
      expiresAt,
      retryAfterMs: Math.max(0, expiresAt - now),
    });
  }
  const retryAfterMs = slotTakenByOther(item, owner, now)
    ? Math.max(WAITING.floorMs, slotStaleAt(item) - now)
    : WAITING.floorMs;
  return new LockHeld(lockId, { owner: '', expiresAt: now, retryAfterMs, waiting: 1 });
}
