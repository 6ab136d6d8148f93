// Semaphores: N permits on one item, each with its own owner, lease and fencing token. The
// item holds at most N entries (expired ones included), so no write can ever make N + 1
// permits unexpired: a new permit needs a free entry, or replaces an entry that has expired.
// Entries live under `permitKey(owner)`, never under the owner itself (see semaphore-item.ts).
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { failedItem, isConditionFailure, request } from './condition-failure.js';
import { LockHeld, LockLost, ValidationError } from './errors.js';
import { LIMITS } from './limits.js';
import { type LockItem, namesOf, type PermitEntry, type TableContext } from './lock-item.js';
import type { Grant, LockData, LockEvent, LockState, ReleaseResult } from './lock-manager.js';
import { permitKey, permitsOf, type StoredPermit } from './semaphore-item.js';

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

/** `#me`: the caller's entry in both maps; `#owner` inside an entry. */
const mine = (owner: string) => ({ '#me': permitKey(owner), '#owner': 'owner' });

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
   * ends first when all N are held. The caller has checked that the permit fits
   * (`checkPermitFits`).
   */
  async tryAcquire(
    lockId: string,
    owner: string,
    permits: number,
    leaseMs: number,
    data: LockData | undefined,
  ): Promise<Grant> {
    const key = permitKey(owner);
    let seen: LockItem | undefined;
    for (let step = 0; step < MAX_STEPS; step++) {
      const now = this.table.clock();
      const entry = entryOf(owner, now, leaseMs, data);
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
      const all = permitsOf(seen);
      if (seen.permits !== undefined && seen.permits !== permits && all.length > 0) {
        throw new ValidationError(
          'permits',
          `"${lockId}" is a semaphore of ${seen.permits} permits, got permits ${permits}`,
        );
      }
      const under = all.find((permit) => permit.key === key);
      if (under !== undefined && under.expiresAt > now) {
        if (under.owner !== owner || under.token === undefined) {
          // Another owner under this owner's key (a SHA-256 collision): never shared.
          throw heldBy(lockId, under.owner, under.expiresAt, now);
        }
        // A retry by the holder: its own permit back, unchanged.
        this.onEvent({ type: 'regranted', lockId, owner, token: under.token });
        return {
          lockId,
          owner,
          token: under.token,
          expiresAt: under.expiresAt,
          leaseMs: under.leaseMs,
          permits,
        };
      }
      // Our own expired permit first: it cannot stay beside a new one.
      const victim = under ?? all.filter((permit) => permit.expiresAt <= now).sort(byEnd)[0];
      if (victim !== undefined && victim.token !== undefined) {
        try {
          const token = await this.replace(lockId, owner, victim, entry, now);
          return this.granted(lockId, owner, permits, token, entry, true);
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
          continue; // someone else changed the semaphore first: look again
        }
      }
      if (all.length < permits) continue; // a permit was released since: try again
      break;
    }
    // Full, or still contended after MAX_STEPS looks: name the permit that ends first.
    const now = this.table.clock();
    const first = permitsOf(seen).sort(byEnd)[0];
    const holder = first?.owner ?? '';
    this.onEvent({ type: 'refused', lockId, owner, holder });
    throw heldBy(lockId, holder, first?.expiresAt ?? now, now);
  }

  /**
   * Extends a permit that is still current (its owner holds it with this token).
   * @throws ValidationError naming `permits` when `permits` is given and the item is a lock, or
   * a semaphore of another number of permits
   * @throws LockLost otherwise, changing nothing
   */
  async renew(
    lockId: string,
    owner: string,
    token: number,
    leaseMs: number | undefined,
    permits: number | undefined,
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
    const current = currentPermit(owner, token, permits);
    try {
      const { Attributes } = await this.send({
        Key: { lockId },
        UpdateExpression: `SET ${lease.set}, #ttl = :ttl`,
        ConditionExpression: current.condition,
        ExpressionAttributeNames: {
          ...namesOf('holders', 'permitTokens', 'expiresAt', 'leaseMs', 'ttl'),
          ...current.names,
        },
        ExpressionAttributeValues: { ...lease.values, ...current.values, ':ttl': this.ttl(now) },
        // The whole item only when it must tell the number of permits.
        ReturnValues: permits === undefined ? 'ALL_NEW' : 'UPDATED_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      const item = Attributes as LockItem;
      const key = permitKey(owner);
      const holders = new Map(Object.entries(item.holders ?? {}));
      const expiresAt = holders.get(key)?.expiresAt ?? now;
      this.onEvent({ type: 'renewed', lockId, owner, token });
      const count = permits ?? item.permits;
      return {
        lockId,
        owner,
        token,
        expiresAt,
        leaseMs: leaseMs ?? holders.get(key)?.leaseMs ?? expiresAt - now,
        ...(count === undefined ? {} : { permits: count }),
      };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const mismatch = permitsMismatch(lockId, failedItem<LockItem>(err), permits);
      if (mismatch) throw mismatch;
      this.onEvent({ type: 'lost', lockId, owner, token });
      throw new LockLost(lockId, undefined, { cause: err });
    }
  }

  /**
   * Ends a permit that is still current; `released: false`, changing nothing, otherwise.
   * @throws ValidationError naming `permits`, as {@link Semaphores.renew}
   */
  async release(
    lockId: string,
    owner: string,
    token: number,
    permits: number | undefined,
  ): Promise<ReleaseResult> {
    const current = currentPermit(owner, token, permits);
    const released = await this.removePermit(lockId, current, permits);
    this.onEvent({ type: 'released', lockId, owner, token, released });
    return { released };
  }

  /** Ends whatever permit `owner` holds, whatever its token (the owner's execution ended). */
  releaseOwner(lockId: string, owner: string): Promise<boolean> {
    return this.removePermit(
      lockId,
      {
        condition: '#holders.#me.#owner = :owner',
        names: mine(owner),
        values: { ':owner': owner },
      },
      undefined,
    );
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
    const { Attributes } = await this.send(
      {
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
          '#me': permitKey(owner),
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
      },
      growingField(entry),
    );
    return (Attributes as { token: number }).token;
  }

  /** Replaces an expired permit (another owner's, or the caller's own) with a new one. */
  private async replace(
    lockId: string,
    owner: string,
    victim: StoredPermit,
    entry: PermitEntry,
    now: number,
  ): Promise<number> {
    const key = permitKey(owner);
    const own = victim.key === key;
    const { Attributes } = await this.send(
      {
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
          '#me': key,
          '#old': victim.key,
        },
        ExpressionAttributeValues: {
          ':entry': entry,
          ':one': 1,
          ...(own ? {} : { ':zero': 0 }),
          ':oldToken': victim.token,
          ':now': now,
          ':ttl': this.ttl(now),
        },
        ReturnValues: 'UPDATED_NEW',
      },
      growingField(entry),
    );
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
    const key = permitKey(owner);
    await this.send(
      {
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
          ':holders': Object.fromEntries([[key, entry]]),
          ':tokens': Object.fromEntries([[key, token]]),
          ':token': token,
          ':permits': permits,
          ':now': now,
          ':zero': 0,
          ':ttl': this.ttl(now),
          ...(oldToken === undefined ? {} : { ':oldToken': oldToken }),
        },
      },
      growingField(entry),
    );
    return token;
  }

  private async removePermit(
    lockId: string,
    current: Condition,
    permits: number | undefined,
  ): Promise<boolean> {
    try {
      await this.send({
        Key: { lockId },
        UpdateExpression: 'REMOVE #holders.#me, #permitTokens.#me',
        ConditionExpression: current.condition,
        ExpressionAttributeNames: { ...namesOf('holders', 'permitTokens'), ...current.names },
        ExpressionAttributeValues: current.values,
        // The item only when a refusal may have to say why (a release that gave `permits`).
        ...(permits === undefined ? {} : { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
      });
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const mismatch = permitsMismatch(lockId, failedItem<LockItem>(err), permits);
      if (mismatch) throw mismatch;
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

  private send(
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
    invalidField?: string,
  ) {
    return request(
      () =>
        this.table.client.send(new UpdateCommand({ TableName: this.table.tableName, ...input })),
      invalidField,
    );
  }
}

/** A condition with the names and values it uses (every `:value` it names is defined). */
interface Condition {
  condition: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/** `owner`'s permit with this token, and, when the caller gave it, this number of permits. */
const currentPermit = (owner: string, token: number, permits: number | undefined): Condition => ({
  condition:
    '#permitTokens.#me = :token AND #holders.#me.#owner = :owner' +
    (permits === undefined ? '' : ' AND #permits = :permits'),
  names: { ...mine(owner), ...(permits === undefined ? {} : namesOf('permits')) },
  values: {
    ':token': token,
    ':owner': owner,
    ...(permits === undefined ? {} : { ':permits': permits }),
  },
});

/**
 * Why a renew or release that gave `permits` was refused, when the request itself was wrong:
 * the item is a lock, or a semaphore of another number of permits.
 */
function permitsMismatch(
  lockId: string,
  item: LockItem | undefined,
  permits: number | undefined,
): ValidationError | undefined {
  if (permits === undefined || item === undefined) return undefined;
  if (item.holders === undefined) {
    return new ValidationError(
      'permits',
      `"${lockId}" is a lock, not a semaphore: renew and release it without permits`,
    );
  }
  if (item.permits !== undefined && item.permits !== permits) {
    return new ValidationError(
      'permits',
      `"${lockId}" is a semaphore of ${item.permits} permits, got permits ${permits}`,
    );
  }
  return undefined;
}

/** The field a DynamoDB refusal of a growing write blames: what makes a permit large. */
const growingField = (entry: PermitEntry): string => (entry.data === undefined ? 'owner' : 'data');

const byEnd = (a: StoredPermit, b: StoredPermit) => a.expiresAt - b.expiresAt;

/**
 * What `get` shows of a semaphore: its unexpired permits, soonest to end first.
 *
 * @example semaphoreState('pool', item, Date.now()).available
 */
export function semaphoreState(lockId: string, item: LockItem, now: number): LockState {
  // Exactly the permits an acquire could not replace: an expired one is free.
  const holders: PermitHolder[] = permitsOf(item)
    .filter((permit) => permit.expiresAt > now)
    .sort(byEnd)
    .map((permit) => ({
      owner: permit.owner,
      token: permit.token ?? Number.NaN,
      expiresAt: permit.expiresAt,
      leaseMs: permit.leaseMs,
      ...(permit.acquiredAt === undefined ? {} : { acquiredAt: permit.acquiredAt }),
      ...(permit.data === undefined ? {} : { data: JSON.parse(permit.data) as LockData }),
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

const entryOf = (
  owner: string,
  now: number,
  leaseMs: number,
  data: LockData | undefined,
): PermitEntry => ({
  owner,
  expiresAt: now + leaseMs,
  leaseMs,
  acquiredAt: now,
  ...(data === undefined ? {} : { data: JSON.stringify(data) }),
});

const heldBy = (lockId: string, owner: string, expiresAt: number, now: number) =>
  new LockHeld(lockId, { owner, expiresAt, retryAfterMs: Math.max(0, expiresAt - now) });
