// Semaphores: N permits on one item, each with its own owner, lease and fencing token. The
// item holds at most N entries (expired ones included), so no write can ever make N + 1
// permits unexpired: a new permit needs a free entry, or replaces an entry that has expired.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { failedItem, isConditionFailure, request } from './condition-failure.js';
import { LockHeld, LockLost, ValidationError } from './errors.js';
import { LIMITS } from './limits.js';
import { type LockItem, namesOf, type PermitEntry, type TableContext } from './lock-item.js';
import type { Grant, LockData, LockEvent, LockState, ReleaseResult } from './lock-manager.js';

/** A permit of a semaphore, as `get` lists it. */
export interface PermitHolder {
  owner: string;
  token: number;
  expiresAt: number;
  leaseMs: number;
  /** Epoch ms the permit was granted (absent on permits granted before it was recorded). */
  acquiredAt?: number;
  data?: LockData;
}

/**
 * A semaphore's history, in the write of each permit granted to a new holder (uses `:one` and
 * `:zero`): `transitions` counts them after the first.
 */
const NEW_HOLDER = '#transitions = if_not_exists(#transitions, :zero) + :one';

/** Attempts of one acquire before a contended semaphore answers with what it last saw. */
const MAX_STEPS = 5;

/**
 * The semaphore operations of {@link LockManager}, which validates input, waits and chooses
 * between a lock and a semaphore. One attempt each.
 */
export class Semaphores {
  constructor(
    private readonly table: TableContext,
    private readonly onEvent: (event: LockEvent) => void,
  ) {}

  /**
   * Takes a permit: 1 request while the semaphore has a free entry, 2 when it must first be
   * created or an expired permit is replaced. Throws {@link LockHeld} naming the permit that
   * ends first when all N are held.
   */
  async tryAcquire(
    lockId: string,
    owner: string,
    permits: number,
    leaseMs: number,
    data: LockData | undefined,
  ): Promise<Grant> {
    let seen: LockItem | undefined;
    for (let step = 0; step < MAX_STEPS; step++) {
      const now = this.table.clock();
      const entry = entryOf(now, leaseMs, data);
      try {
        const token = await this.addPermit(lockId, owner, permits, entry, now);
        return this.granted(lockId, owner, permits, token, entry, false);
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        seen = failedItem<LockItem>(err);
      }
      if (!seen?.holders) {
        // No semaphore yet: no item, or a free (or expired) plain lock, becomes one.
        if (seen?.owner !== undefined && (seen.expiresAt ?? 0) > now) {
          throw heldBy(lockId, seen.owner, seen.expiresAt ?? now, now);
        }
        try {
          const token = await this.create(lockId, owner, permits, entry, now, seen?.token);
          return this.granted(lockId, owner, permits, token, entry, seen?.owner !== undefined);
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
          continue; // someone else created it, or took the lock, first: look again
        }
      }
      const holders = seen.holders;
      const count = Object.keys(holders).length;
      if (seen.permits !== undefined && seen.permits !== permits && count > 0) {
        throw new ValidationError(
          'permits',
          `"${lockId}" is a semaphore of ${seen.permits} permits, got permits ${permits}`,
        );
      }
      const mine = holders[owner];
      const myToken = seen.permitTokens?.[owner];
      if (mine && myToken !== undefined && mine.expiresAt > now) {
        // A retry by the holder: its own permit back, unchanged.
        this.onEvent({ type: 'regranted', lockId, owner, token: myToken });
        return {
          lockId,
          owner,
          token: myToken,
          expiresAt: mine.expiresAt,
          leaseMs: mine.leaseMs,
          permits,
        };
      }
      const expired = Object.entries(holders)
        .filter(([, held]) => held.expiresAt <= now)
        .sort(([, a], [, b]) => a.expiresAt - b.expiresAt);
      // Our own expired permit first: it cannot stay beside a new one.
      const victim = mine ? owner : expired[0]?.[0];
      const victimToken = victim === undefined ? undefined : seen.permitTokens?.[victim];
      if (victim !== undefined && victimToken !== undefined) {
        try {
          const token = await this.replace(lockId, owner, victim, victimToken, entry, now);
          return this.granted(lockId, owner, permits, token, entry, true);
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
          continue; // someone else changed the semaphore first: look again
        }
      }
      if (count < permits) continue; // a permit was released since: try again
      break;
    }
    // Full, or still contended after MAX_STEPS looks: name the permit that ends first.
    const now = this.table.clock();
    const [first, held] = Object.entries(seen?.holders ?? {}).sort(
      ([, a], [, b]) => a.expiresAt - b.expiresAt,
    )[0] ?? ['', { expiresAt: now }];
    this.onEvent({ type: 'refused', lockId, owner, holder: first });
    throw heldBy(lockId, first, held.expiresAt, now);
  }

  /**
   * Extends a permit that is still current (its owner holds it with this token).
   * @throws LockLost otherwise, changing nothing
   */
  async renew(
    lockId: string,
    owner: string,
    token: number,
    leaseMs: number | undefined,
  ): Promise<Grant> {
    const now = this.table.clock();
    // Without a new lease, the permit's own is reused in the same write.
    const lease =
      leaseMs === undefined
        ? { set: '#holders.#me.#expiresAt = :now + #holders.#me.#leaseMs', values: { ':now': now } }
        : {
            set: '#holders.#me.#expiresAt = :expiresAt, #holders.#me.#leaseMs = :leaseMs',
            values: { ':expiresAt': now + leaseMs, ':leaseMs': leaseMs },
          };
    try {
      const { Attributes } = await this.send({
        Key: { lockId },
        UpdateExpression: `SET ${lease.set}, #ttl = :ttl`,
        ConditionExpression: '#permitTokens.#me = :token',
        ExpressionAttributeNames: {
          ...namesOf('holders', 'permitTokens', 'expiresAt', 'leaseMs', 'ttl'),
          '#me': owner,
        },
        ExpressionAttributeValues: { ...lease.values, ':token': token, ':ttl': this.ttl(now) },
        ReturnValues: 'ALL_NEW',
      });
      const item = Attributes as LockItem;
      const renewed = item.holders?.[owner] as PermitEntry;
      this.onEvent({ type: 'renewed', lockId, owner, token });
      return {
        lockId,
        owner,
        token,
        expiresAt: renewed.expiresAt,
        leaseMs: renewed.leaseMs,
        ...(item.permits === undefined ? {} : { permits: item.permits }),
      };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      this.onEvent({ type: 'lost', lockId, owner, token });
      throw new LockLost(lockId, undefined, { cause: err });
    }
  }

  /** Ends a permit that is still current; `released: false`, changing nothing, otherwise. */
  async release(lockId: string, owner: string, token: number): Promise<ReleaseResult> {
    const released = await this.removePermit(lockId, owner, '#permitTokens.#me = :token', {
      ':token': token,
    });
    this.onEvent({ type: 'released', lockId, owner, token, released });
    return { released };
  }

  /** Ends whatever permit `owner` holds, whatever its token (the owner's execution ended). */
  releaseOwner(lockId: string, owner: string): Promise<boolean> {
    return this.removePermit(lockId, owner, 'attribute_exists(#permitTokens.#me)', {});
  }

  /** Operator release of every permit; bumps the counter, like a lock's force release. */
  async forceRelease(lockId: string): Promise<ReleaseResult> {
    try {
      await this.send({
        Key: { lockId },
        UpdateExpression:
          'SET #holders = :empty, #permitTokens = :empty, #token = #token + :one, #ttl = :ttl',
        ConditionExpression: 'size(#holders) > :zero',
        ExpressionAttributeNames: namesOf('holders', 'permitTokens', 'token', 'ttl'),
        ExpressionAttributeValues: {
          ':empty': {},
          ':one': 1,
          ':zero': 0,
          ':ttl': this.ttl(this.table.clock()),
        },
      });
      return { released: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return { released: false };
    }
  }

  private async addPermit(
    lockId: string,
    owner: string,
    permits: number,
    entry: PermitEntry,
    now: number,
  ): Promise<number> {
    const { Attributes } = await this.send({
      Key: { lockId },
      // The permit's token and the counter are the same expression of the old counter.
      UpdateExpression:
        'SET #holders.#me = :entry, #permitTokens.#me = if_not_exists(#token, :now) + :one, ' +
        '#token = if_not_exists(#token, :now) + :one, #permits = :permits, #ttl = :ttl, ' +
        NEW_HOLDER,
      // Fewer than N entries, expired ones included, so the new one is at most the Nth; the
      // limit may change only while nobody holds a permit.
      ConditionExpression:
        'attribute_exists(#holders) AND attribute_not_exists(#holders.#me) AND ' +
        'size(#holders) < :permits AND ' +
        '(attribute_not_exists(#permits) OR #permits = :permits OR size(#holders) = :zero)',
      ExpressionAttributeNames: {
        ...namesOf('holders', 'permitTokens', 'token', 'permits', 'ttl', 'transitions'),
        '#me': owner,
      },
      ExpressionAttributeValues: {
        ':entry': entry,
        ':now': now,
        ':one': 1,
        ':zero': 0,
        ':permits': permits,
        ':ttl': this.ttl(now),
      },
      ReturnValues: 'UPDATED_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    return (Attributes as { token: number }).token;
  }

  /** Replaces an expired permit (another owner's, or the caller's own) with a new one. */
  private async replace(
    lockId: string,
    owner: string,
    victim: string,
    victimToken: number,
    entry: PermitEntry,
    now: number,
  ): Promise<number> {
    const own = victim === owner;
    const { Attributes } = await this.send({
      Key: { lockId },
      UpdateExpression:
        (own ? '' : 'REMOVE #holders.#old, #permitTokens.#old ') +
        'SET #holders.#me = :entry, #permitTokens.#me = #token + :one, #token = #token + :one, ' +
        '#ttl = :ttl' +
        (own ? '' : `, ${NEW_HOLDER}`),
      // Still the same expired permit: nobody renewed or replaced it since we looked.
      ConditionExpression:
        '#permitTokens.#old = :oldToken AND #holders.#old.#expiresAt <= :now' +
        (own ? '' : ' AND attribute_not_exists(#holders.#me)'),
      ExpressionAttributeNames: {
        ...namesOf('holders', 'permitTokens', 'token', 'expiresAt', 'ttl'),
        ...(own ? {} : namesOf('transitions')),
        '#me': owner,
        '#old': victim,
      },
      ExpressionAttributeValues: {
        ':entry': entry,
        ':one': 1,
        ...(own ? {} : { ':zero': 0 }),
        ':oldToken': victimToken,
        ':now': now,
        ':ttl': this.ttl(now),
      },
      ReturnValues: 'UPDATED_NEW',
    });
    return (Attributes as { token: number }).token;
  }

  /**
   * Makes the item a semaphore holding this first permit: a new item, or a free or expired
   * lock's, whose counter the refused write showed (`oldToken`), so the new token is known.
   */
  private async create(
    lockId: string,
    owner: string,
    permits: number,
    entry: PermitEntry,
    now: number,
    oldToken: number | undefined,
  ): Promise<number> {
    // A new item's counter starts at the clock, as a lock's does (see LockManager.tryAcquire).
    const token = (oldToken ?? now) + 1;
    await this.send({
      Key: { lockId },
      UpdateExpression:
        'SET #holders = :holders, #permitTokens = :tokens, #token = :token, ' +
        '#permits = :permits, #ttl = :ttl, #transitions = :zero ' +
        'REMOVE #owner, #expiresAt, #leaseMs, #data, #acquiredAt, #lastHolder',
      ConditionExpression:
        'attribute_not_exists(#holders) AND (attribute_not_exists(#owner) OR #expiresAt <= :now) AND ' +
        (oldToken === undefined ? 'attribute_not_exists(#token)' : '#token = :oldToken'),
      ExpressionAttributeNames: namesOf(
        'holders',
        'permitTokens',
        'token',
        'permits',
        'ttl',
        'owner',
        'expiresAt',
        'leaseMs',
        'data',
        'acquiredAt',
        'lastHolder',
        'transitions',
      ),
      ExpressionAttributeValues: {
        ':holders': { [owner]: entry },
        ':tokens': { [owner]: token },
        ':token': token,
        ':permits': permits,
        ':now': now,
        ':zero': 0,
        ':ttl': this.ttl(now),
        ...(oldToken === undefined ? {} : { ':oldToken': oldToken }),
      },
    });
    return token;
  }

  private async removePermit(
    lockId: string,
    owner: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.send({
        Key: { lockId },
        UpdateExpression: 'REMOVE #holders.#me, #permitTokens.#me',
        ConditionExpression: condition,
        ExpressionAttributeNames: { ...namesOf('holders', 'permitTokens'), '#me': owner },
        ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
      });
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return false;
    }
  }

  private granted(
    lockId: string,
    owner: string,
    permits: number,
    token: number,
    entry: PermitEntry,
    takeover: boolean,
  ): Grant {
    this.onEvent({ type: 'granted', lockId, owner, token, takeover });
    return { lockId, owner, token, expiresAt: entry.expiresAt, leaseMs: entry.leaseMs, permits };
  }

  // A permit's lease may be up to the longest there is, and the other holders' too: an
  // expression cannot take the maximum, so the item is kept for the longest possible lease.
  private ttl(now: number): number {
    return this.table.ttlAfter(now + LIMITS.leaseMsMax);
  }

  private send(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>) {
    return request(() =>
      this.table.client.send(new UpdateCommand({ TableName: this.table.tableName, ...input })),
    );
  }
}

/**
 * What `get` shows of a semaphore: its unexpired permits, soonest to end first.
 *
 * @example semaphoreState('pool', item, Date.now()).available
 */
export function semaphoreState(lockId: string, item: LockItem, now: number): LockState {
  const holders: PermitHolder[] = Object.entries(item.holders ?? {})
    .filter(([, entry]) => entry.expiresAt > now)
    .sort(([, a], [, b]) => a.expiresAt - b.expiresAt)
    .map(([owner, entry]) => ({
      owner,
      token: item.permitTokens?.[owner] ?? Number.NaN,
      expiresAt: entry.expiresAt,
      leaseMs: entry.leaseMs,
      ...(entry.acquiredAt === undefined ? {} : { acquiredAt: entry.acquiredAt }),
      ...(entry.data === undefined ? {} : { data: JSON.parse(entry.data) as LockData }),
    }));
  const permits = item.permits ?? holders.length;
  return {
    lockId,
    held: holders.length > 0,
    ...(item.token === undefined ? {} : { token: item.token }),
    ...(item.transitions === undefined ? {} : { transitions: item.transitions }),
    permits,
    available: Math.max(0, permits - holders.length),
    holders,
  };
}

const entryOf = (now: number, leaseMs: number, data: LockData | undefined): PermitEntry => ({
  expiresAt: now + leaseMs,
  leaseMs,
  acquiredAt: now,
  ...(data === undefined ? {} : { data: JSON.stringify(data) }),
});

const heldBy = (lockId: string, owner: string, expiresAt: number, now: number) =>
  new LockHeld(lockId, { owner, expiresAt, retryAfterMs: Math.max(0, expiresAt - now) });
