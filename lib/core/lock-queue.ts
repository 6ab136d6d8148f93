// Fair handoff for waiting acquires of a lock: a ticket queue kept in the lock's own item, so
// that a holder that releases and asks again cannot barge ahead of callers already waiting.
//
// `issued` counts the tickets handed out, `served` is the last ticket granted (or skipped). A
// waiter takes a ticket t with one write, then may take the lock only when it is free and
// `served = t - 1`: its turn. A caller without a ticket (the first, one-write attempt of every
// acquire) may take a free lock only while nobody waits (`served >= issued`). A waiter that
// died, gave up or fell asleep would stall the queue, so once the lock has been free for
// `skipMs` any later ticket may take it, skipping the silent ones: a dead waiter holds the lock
// back by at most `skipMs` after it frees.
//
// Waiters learn of a release by reading the item: the one next in line every quarter of the
// time the holder has held it so far (5 to 100 ms, never past the lease end), those further
// back as much more rarely as they have places to move up (at most every 500 ms), so reads
// per grant stay few and bounded.
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { request } from './condition-failure.js';
import type { LockItem, TableContext } from './lock-item.js';

/** The queue's attributes in the lock item. */
export interface QueueState {
  issued?: number;
  served?: number;
  /** Epoch ms of the last release (a lock that expired unreleased is free from `expiresAt`). */
  freedAt?: number;
}

// Waiters asleep in this process, by lock and ticket: a release made in this process wakes the
// next in line at once, instead of leaving it to its next read. Across processes, reads alone.
const sleepers = new Map<string, Map<number, () => void>>();
const sleeperKey = (table: TableContext, lockId: string) => `${table.tableName}\u0000${lockId}`;

// Grants held by this process, by lock and token: their release will wake the next waiter
// here, so waiters behind a local holder need not read the item to learn of it.
const localGrants = new Set<string>();
const MAX_LOCAL_GRANTS = 10_000;
const grantKey = (table: TableContext, lockId: string, token: number | undefined) =>
  `${sleeperKey(table, lockId)}\u0000${token}`;

/** Notes a grant this process holds (until {@link forgetLocalGrant}). */
export function noteLocalGrant(table: TableContext, lockId: string, token: number): void {
  // Grants never released (left to expire) must not pile up: the oldest go first.
  addBounded(localGrants, grantKey(table, lockId, token), MAX_LOCAL_GRANTS);
}

/**
 * Adds `key` to a set that remembers at most `max` keys, forgetting the oldest first.
 *
 * @example addBounded(recent, lockId, 1_000);
 */
export function addBounded(set: Set<string>, key: string, max: number): void {
  set.add(key);
  if (set.size > max) set.delete(set.values().next().value as string);
}

/** Forgets a grant this process released. */
export function forgetLocalGrant(table: TableContext, lockId: string, token: number): void {
  localGrants.delete(grantKey(table, lockId, token));
}

/**
 * Wakes the waiter of ticket `served + 1` on this lock if it sleeps in this process: the lock
 * was just freed (or its turn passed on) and it is next.
 *
 * @example wakeNext(table, 'orders/42', item.served);
 */
export function wakeNext(table: TableContext, lockId: string, served: number | undefined): void {
  sleepers.get(sleeperKey(table, lockId))?.get((served ?? 0) + 1)?.();
}

/** Timings of the queue. */
export interface QueueTiming {
  /** How long a freed lock waits for the next ticket before later tickets may skip it. */
  skipMs: number;
}

export const QUEUE_DEFAULTS: QueueTiming = { skipMs: 250 };

/** Poll delays, ms. */
const NEXT_IN_LINE_FIRST = 5;
const NEXT_IN_LINE_MAX = 100;
const FURTHER_BACK_MAX = 500;

/**
 * The condition parts a grant adds for the queue, with their names and values. Without a
 * ticket: nobody may be waiting. With ticket t: its turn (`served = t - 1`); or, past waiters
 * that stay silent, the lock has been free for `skipMs` per ticket still ahead of t, counted
 * from the `served` the waiter last saw (so the earliest live waiter is first to move up).
 */
export function queueCondition(
  place: { ticket: number; seenServed: number } | undefined,
  now: number,
  timing: QueueTiming,
): {
  condition: string;
  update: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  if (place === undefined) {
    return {
      condition: '(attribute_not_exists(#issued) OR #served >= #issued)',
      update: '',
      names: { '#issued': 'issued', '#served': 'served' },
      values: {},
    };
  }
  const { ticket, seenServed } = place;
  const ahead = Math.max(0, ticket - 1 - seenServed);
  return {
    condition:
      '(#served = :previous OR (#served = :seen AND ' +
      '((attribute_not_exists(#owner) AND (attribute_not_exists(#freedAt) OR #freedAt <= :skipBefore)) ' +
      'OR #expiresAt <= :skipBefore)))',
    update: ', #served = :ticket',
    names: { '#served': 'served', '#freedAt': 'freedAt' },
    values: {
      ':previous': ticket - 1,
      ':seen': seenServed,
      ':ticket': ticket,
      ':skipBefore': now - ahead * timing.skipMs,
    },
  };
}

/**
 * A waiter's place in the queue of one lock: its ticket, what it last saw, and when to look
 * again.
 */
export class QueuePlace {
  private ticket = 0;

  constructor(
    private readonly table: TableContext,
    private readonly lockId: string,
    private readonly timing: QueueTiming,
  ) {}

  /** The ticket to present, after {@link take}. */
  get number(): number {
    return this.ticket;
  }

  /** Takes a ticket at the back of the queue: one write. */
  async take(): Promise<number> {
    const { Attributes } = await request(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { lockId: this.lockId },
          UpdateExpression: 'ADD #issued :one SET #served = if_not_exists(#served, :zero)',
          ExpressionAttributeNames: { '#issued': 'issued', '#served': 'served' },
          ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    this.ticket = (Attributes as { issued: number }).issued;
    return this.ticket;
  }

  /**
   * Sleeps `ms`, or less if a release in this process wakes this ticket first.
   * @returns true when woken: the lock was just freed for this ticket
   */
  sleep(ms: number): Promise<boolean> {
    const key = sleeperKey(this.table, this.lockId);
    const ticket = this.ticket;
    return new Promise((resolve) => {
      const waiting = sleepers.get(key) ?? new Map<number, () => void>();
      sleepers.set(key, waiting);
      const done = (woken: boolean) => {
        clearTimeout(timer);
        waiting.delete(ticket);
        if (waiting.size === 0) sleepers.delete(key);
        resolve(woken);
      };
      const timer = setTimeout(() => done(false), ms);
      waiting.set(ticket, () => done(true));
    });
  }

  /** True when the queue has moved past this ticket (it was skipped): take another. */
  passed(item: LockItem & QueueState): boolean {
    return (item.served ?? 0) >= this.ticket;
  }

  /** True when a grant with this ticket may succeed now, by what `item` shows. */
  mayTake(item: LockItem & QueueState, now: number): boolean {
    return isFree(item, now) && now >= this.turnAt(item);
  }

  /** The ticket and the `served` it was last seen with, for the grant's condition. */
  presented(item: LockItem & QueueState): { ticket: number; seenServed: number } {
    return { ticket: this.ticket, seenServed: item.served ?? 0 };
  }

  // From when this ticket may take the freed lock: at once on its turn, else after a skip
  // window per ticket still ahead.
  private turnAt(item: LockItem & QueueState): number {
    const ahead = Math.max(0, this.ticket - 1 - (item.served ?? 0));
    return ahead === 0 ? 0 : freeSince(item) + ahead * this.timing.skipMs;
  }

  /**
   * How long to wait before reading the item again: short for the next in line (and growing
   * while the same holder keeps the lock), longer the further back, never past the holder's
   * lease end or the caller's deadline, and exactly to the end of a skip window.
   */
  delay(item: LockItem & QueueState, now: number, remainingMs: number): number {
    const served = item.served ?? 0;
    const ahead = Math.max(0, this.ticket - 1 - served);
    const free = isFree(item, now);
    const until = free ? this.turnAt(item) : (item.expiresAt ?? now);
    if (!free && localGrants.has(grantKey(this.table, this.lockId, item.token))) {
      // Held in this process: its release wakes the next in line here. Reads only as a
      // fallback (a force release from elsewhere), never past the lease end.
      return Math.max(1, Math.min(FURTHER_BACK_MAX, until - now + 1, remainingMs));
    }
    // Look again after a quarter of what the holder has held the lock so far (a short hold is
    // followed closely, a long one costs few reads), times the places still to move up; never
    // past the lease end, nor past the moment a skip window would let this ticket in.
    const heldFor = free ? 0 : now - ((item.expiresAt ?? now) - (item.leaseMs ?? 0));
    const step = Math.min(NEXT_IN_LINE_MAX, Math.max(NEXT_IN_LINE_FIRST, heldFor / 4));
    const wait = Math.min(FURTHER_BACK_MAX, step * (ahead + 1), Math.max(1, until - now + 1));
    return Math.max(1, Math.min(wait, remainingMs));
  }

  /** Reads the lock item (strongly consistent). */
  async read(): Promise<LockItem & QueueState> {
    const { Item } = await request(() =>
      this.table.client.send(
        new GetCommand({
          TableName: this.table.tableName,
          Key: { lockId: this.lockId },
          ConsistentRead: true,
        }),
      ),
    );
    return (Item ?? { lockId: this.lockId }) as LockItem & QueueState;
  }

  /**
   * Gives the turn on when this waiter stops waiting while next in line, so the others need
   * not wait out the skip window. Best effort: a failure only costs them that window.
   */
  async leave(): Promise<void> {
    try {
      await this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { lockId: this.lockId },
          UpdateExpression: 'SET #served = :ticket',
          ConditionExpression: '#served = :previous',
          ExpressionAttributeNames: { '#served': 'served' },
          ExpressionAttributeValues: { ':ticket': this.ticket, ':previous': this.ticket - 1 },
        }),
      );
      wakeNext(this.table, this.lockId, this.ticket);
    } catch {
      // Not next in line any more, or DynamoDB unreachable: the skip window covers both.
    }
  }
}

const isFree = (item: LockItem, now: number) =>
  item.owner === undefined || (item.expiresAt ?? 0) <= now;

/** When the lock became free: its release, or the end of the lease it was left with. */
const freeSince = (item: LockItem & QueueState): number =>
  item.owner === undefined ? (item.freedAt ?? 0) : (item.expiresAt ?? 0);
