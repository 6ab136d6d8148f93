// How callers wait for a held lock, so that nothing a departed caller leaves behind holds a free
// lock back for long.
//
// The lock's item has a line of two slots, each a lease of its own: the first (`waiter`,
// `waiterSeen`, `waiterSince`) names the caller next in line, the second (`waiter2`, ...) the
// one after it. A slot's holder renews it (its `Seen`, epoch ms by its own clock) every
// HEARTBEAT_MS while it waits; once silent for STALE_MS it counts for nothing. A free lock is
// granted to any caller, a try-lock included, unless a live waiter other than the caller holds
// the first slot. The first slot's grant moves the second slot's holder up in the same write;
// any other grant just empties the first slot. So a waiter that died, gave up or paused holds a
// free lock back for at most STALE_MS (+ MAX_SKEW_MS for a clock that runs ahead) after its last
// heartbeat, whatever the number of callers that came and went before it: callers outside the
// slots keep no state at all, and only the first slot can hold a free lock back.
//
// Order is approximately first come, first served: a waiter that began waiting earlier (its
// `Since`) may take a slot from a later one. The first slot's holder follows the lock holder
// closely, the second's a little less, the others look now and then to take a slot that
// empties (see `delay`).
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { failedItem, isConditionFailure, request } from './condition-failure.js';
import { type LockItem, readLockItem, type TableContext } from './lock-item.js';

/** The slots' attributes in a lock's item. */
export interface SlotState {
  waiter?: string;
  waiterSeen?: number;
  waiterSince?: number;
  waiter2?: string;
  waiter2Seen?: number;
  waiter2Since?: number;
}

/** A lock's item as the waiting code reads it. */
export type WaitedItem = LockItem & SlotState;

/** The timings of waiting, in ms; docs/protocol.md states the bounds they give. */
export const WAITING = {
  /** A slot holder silent this long is passed over. */
  staleMs: 600,
  /** How often a slot holder renews its slot. */
  heartbeatMs: 200,
  /** A heartbeat stamped further ahead of the reader's clock is from a clock gone wrong: void. */
  maxSkewMs: 250,
  /** Least sleep between two looks at the item, on every path. */
  floorMs: 5,
  /** Slowest look of the first slot's holder, and of the second's. */
  firstMaxMs: 50,
  secondMaxMs: 100,
  /** Fastest look of the second slot's holder. */
  secondMinMs: 10,
  /**
   * While the holder has held the lock no longer than this, the first in line looks by trying
   * the grant itself (a refused write answers with the item): a handoff then costs no read.
   */
  attemptWhileHeldMs: 80,
  /** Fastest and slowest look of the callers outside the slots (before jitter, see othersLook). */
  othersMinMs: 40,
  othersMaxMs: 250,
  /**
   * The stated bound (docs/protocol.md): a free lock is granted to whoever asks at most this
   * long after the last live waiter ahead of it went silent. Its slot counts for nothing
   * `staleMs` (+ `maxSkewMs` for a clock ahead) after its last heartbeat: 850 ms, within it.
   */
  progressBoundMs: 1_000,
} as const;

/** One slot's attribute names. */
interface Slot {
  id: 'waiter' | 'waiter2';
  seen: 'waiterSeen' | 'waiter2Seen';
  since: 'waiterSince' | 'waiter2Since';
}

const FIRST: Slot = { id: 'waiter', seen: 'waiterSeen', since: 'waiterSince' };
const SECOND: Slot = { id: 'waiter2', seen: 'waiter2Seen', since: 'waiter2Since' };
const namesOfSlot = (slot: Slot) => ({
  [`#${slot.id}`]: slot.id,
  [`#${slot.seen}`]: slot.seen,
  [`#${slot.since}`]: slot.since,
});
const SLOT_NAMES = { ...namesOfSlot(FIRST), ...namesOfSlot(SECOND) };

/** Who holds a slot: an owner and when it began waiting. */
interface SlotHolder {
  owner: string;
  since: number;
}

/**
 * What a grant adds for the slots: the first slot is empty, the caller's own, or its holder is
 * silent (or stamped from a clock far ahead). The grant moves the second slot's holder up to
 * the first, whoever it is, heartbeat and all; an empty second slot leaves the first holding a
 * placeholder that counts as silent. Uses the grant's `:owner`.
 */
export function slotCondition(now: number): {
  condition: string;
  set: string;
  remove: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  return {
    condition:
      '(attribute_not_exists(#waiter) OR #waiter = :owner OR ' +
      '#waiterSeen <= :staleBefore OR #waiterSeen > :aheadAfter)',
    set:
      ', #waiter = if_not_exists(#waiter2, :nobody), #waiterSeen = if_not_exists(#waiter2Seen, :never), ' +
      '#waiterSince = if_not_exists(#waiter2Since, :never)',
    remove: '#waiter2, #waiter2Seen, #waiter2Since',
    names: SLOT_NAMES,
    values: {
      ':staleBefore': now - WAITING.staleMs,
      ':aheadAfter': now + WAITING.maxSkewMs,
      ':nobody': '',
      ':never': 0,
    },
  };
}

const holderOf = (item: WaitedItem, slot: Slot): SlotHolder | undefined => {
  const owner = item[slot.id];
  const since = item[slot.since];
  return owner === undefined || since === undefined ? undefined : { owner, since };
};

const sameHolder = (a: SlotHolder | undefined, b: SlotHolder | undefined) =>
  a !== undefined && b !== undefined && a.owner === b.owner && a.since === b.since;

/** True while a waiter holds the slot and has not gone silent (by the reader's clock). */
function slotLive(item: WaitedItem, slot: Slot, now: number): boolean {
  const seen = item[slot.seen];
  if (holderOf(item, slot) === undefined || seen === undefined) return false;
  return seen > now - WAITING.staleMs && seen <= now + WAITING.maxSkewMs;
}

/** True while a live waiter other than `owner` is next in line: a free lock is its to take. */
export const slotTakenByOther = (item: WaitedItem, owner: string | undefined, now: number) =>
  slotLive(item, FIRST, now) && item.waiter !== owner;

/** How many live callers the slots show waiting (0 to 2). */
export const waitingIn = (item: WaitedItem, now: number): number =>
  Number(slotLive(item, FIRST, now)) + Number(slotLive(item, SECOND, now));

/** When the live first slot's holder would count as silent, if it renews no more. */
export const slotStaleAt = (item: WaitedItem): number => (item.waiterSeen ?? 0) + WAITING.staleMs;

/**
 * The range of a look's delay for a caller outside the slots, by how long the holder has held
 * the lock: about as long, within 40 to 250 ms, jittered by half either way.
 *
 * @example othersLook(20).max // 60
 */
export function othersLook(heldMs: number): { min: number; max: number } {
  const base = clamp(heldMs, WAITING.othersMinMs, WAITING.othersMaxMs);
  return { min: base / 2, max: (base * 3) / 2 };
}

/** True when no unexpired grant exists. */
export const isFree = (item: LockItem, now: number): boolean =>
  item.owner === undefined || (item.expiresAt ?? 0) <= now;

// Waiters asleep in this process, by lock and then by slot holder: a release made in this
// process wakes the first slot's holder at once instead of leaving it to its next read. Maps,
// so that no caller's string is ever an object key.
const sleepers = new Map<string, Map<string, () => void>>();
const lockKey = (table: TableContext, lockId: string) => `${table.tableName}\u0000${lockId}`;
const holderKey = ({ owner, since }: SlotHolder) => `${since}\u0000${owner}`;

/**
 * Wakes the first slot's holder that a release left in `item`, if it sleeps in this process.
 *
 * @example wakeSlotHolder(table, 'orders/42', releasedItem);
 */
export function wakeSlotHolder(table: TableContext, lockId: string, item: WaitedItem): void {
  const first = holderOf(item, FIRST);
  if (first !== undefined) sleepers.get(lockKey(table, lockId))?.get(holderKey(first))?.();
}

/**
 * One caller waiting for a lock: decides when to look at the item again and with which
 * request, and keeps or gives up its place in the line.
 */
export class Waiter {
  /** When this caller began waiting, by its clock: its place in the order. */
  readonly since: number;
  /**
   * Before this instant, an empty slot and a free lock are left to the callers that were
   * waiting already.
   */
  private readonly deferUntil: number;

  /**
   * @param deferMs how long this caller leaves the lock and empty slots to those already
   *   waiting: it released the lock just now, into contention (see returning-callers.ts)
   */
  constructor(
    private readonly table: TableContext,
    private readonly lockId: string,
    private readonly owner: string,
    deferMs = 0,
  ) {
    this.since = table.clock();
    this.deferUntil = this.since + deferMs;
  }

  private get me(): SlotHolder {
    return { owner: this.owner, since: this.since };
  }

  /** The slot this caller holds by what `item` shows: 1, 2, or 0 for none. */
  place(item: WaitedItem): 0 | 1 | 2 {
    if (sameHolder(holderOf(item, FIRST), this.me)) return 1;
    return sameHolder(holderOf(item, SECOND), this.me) ? 2 : 0;
  }

  /**
   * True when this caller's next look should be a grant attempt rather than a read: it is first
   * in line, its heartbeat is not due, and the holder has held the lock only briefly, so the
   * release is likely soon and a read before the grant would cost the handoff a round trip.
   */
  pollsByAttempt(item: WaitedItem, now: number): boolean {
    return (
      this.place(item) === 1 &&
      now - (item.waiterSeen ?? 0) < WAITING.heartbeatMs &&
      heldFor(item, now) <= WAITING.attemptWhileHeldMs
    );
  }

  /** True when a grant to this caller may succeed, by what `item` shows. */
  mayTake(item: WaitedItem, now: number): boolean {
    return (
      isFree(item, now) &&
      !slotTakenByOther(item, this.owner, now) &&
      (now >= this.deferUntil || this.place(item) === 1)
    );
  }

  /** The slot this caller should take now, if any: the first before the second. */
  slotToClaim(item: WaitedItem, now: number): 1 | 2 | undefined {
    const place = this.place(item);
    if (place === 1) return undefined;
    if (isFree(item, now)) {
      // A free lock is taken, not waited for; unless the first in line is about to take it:
      // then the second slot is the place to be.
      if (!slotTakenByOther(item, this.owner, now)) return undefined;
      return place === 0 && this.mayClaim(item, SECOND, now) ? 2 : undefined;
    }
    // The first slot, unless a live caller that came earlier is second (it moves up next).
    const secondFirst = slotLive(item, SECOND, now) && place !== 2 && this.cameBefore(item, SECOND);
    if (this.mayClaim(item, FIRST, now) && !secondFirst) return 1;
    return place === 0 && this.mayClaim(item, SECOND, now) ? 2 : undefined;
  }

  /**
   * Takes slot 1 or 2: one write. Moving up from the second slot empties it in the same write.
   * Answers with the item as it is now, taken or not.
   */
  claim(which: 1 | 2, item: WaitedItem): Promise<WaitedItem> {
    const slot = which === 1 ? FIRST : SECOND;
    const movingUp = which === 1 && this.place(item) === 2;
    const now = this.table.clock();
    const id = `#${slot.id}`;
    const seen = `#${slot.seen}`;
    const since = `#${slot.since}`;
    return this.update(
      `SET ${id} = :me, ${seen} = :now, ${since} = :since` +
        (movingUp ? ' REMOVE #waiter2, #waiter2Seen, #waiter2Since' : ''),
      // The first slot only while the lock is held (a free one is taken instead); the second
      // only on an item that has its TTL; either only from an empty, silent or later-come
      // holder; and moving up only from a second slot still this caller's.
      `${slot === FIRST ? '#expiresAt > :now' : 'attribute_exists(#ttl)'} AND ` +
        `(attribute_not_exists(${id}) OR ${seen} <= :staleBefore OR ` +
        `${seen} > :aheadAfter OR ${since} > :since)` +
        (movingUp ? ' AND #waiter2 = :me AND #waiter2Since = :since' : ''),
      {
        ':now': now,
        ':staleBefore': now - WAITING.staleMs,
        ':aheadAfter': now + WAITING.maxSkewMs,
        ':since': this.since,
      },
      {
        ...(movingUp ? SLOT_NAMES : namesOfSlot(slot)),
        ...(slot === FIRST ? { '#expiresAt': 'expiresAt' } : { '#ttl': 'ttl' }),
      },
    );
  }

  /**
   * Looks at the item again with one request: renews this caller's slot if its heartbeat is
   * due (the write answers with the item, and tells a caller that was passed over so),
   * otherwise a strongly consistent read.
   */
  look(item: WaitedItem): Promise<WaitedItem> {
    const now = this.table.clock();
    const place = this.place(item);
    const slot = place === 1 ? FIRST : SECOND;
    if (place !== 0 && now - (item[slot.seen] ?? 0) >= WAITING.heartbeatMs) {
      return this.update(
        `SET #${slot.seen} = :now`,
        `#${slot.id} = :me AND #${slot.since} = :since`,
        { ':now': now, ':since': this.since },
        namesOfSlot(slot),
      );
    }
    return this.read();
  }

  /**
   * Leaves the slot this caller holds, so the line need not wait for it to go silent: when it
   * gives up (`item` shows where it stands).
   */
  async leave(item: WaitedItem): Promise<void> {
    const place = this.place(item);
    if (place !== 0) await this.leaveSlot(place);
  }

  /**
   * Leaves the first slot after a grant this caller took from the second: the grant moved the
   * second slot's holder, this caller, up to the first.
   */
  async leaveAfterGrant(item: WaitedItem): Promise<void> {
    if (this.place(item) === 2) await this.leaveSlot(1);
  }

  private async leaveSlot(place: 1 | 2): Promise<void> {
    const slot = place === 1 ? FIRST : SECOND;
    try {
      await request(() =>
        this.table.client.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { lockId: this.lockId },
            UpdateExpression: `REMOVE #${slot.id}, #${slot.seen}, #${slot.since}`,
            ConditionExpression: `#${slot.id} = :me AND #${slot.since} = :since`,
            ExpressionAttributeNames: namesOfSlot(slot),
            ExpressionAttributeValues: { ':me': this.owner, ':since': this.since },
          }),
        ),
      );
    } catch {
      // Passed over already, or DynamoDB did not answer: the slot goes silent on its own.
    }
  }

  /**
   * How long to sleep before the next look: the first in line follows the holder closely (a
   * quarter of the time the holder has held the lock so far), the second half as closely, the
   * others look about as often as the holder has held it; never past the caller's deadline,
   * never under the floor.
   */
  delay(item: WaitedItem, now: number, remainingMs: number): number {
    const held = heldFor(item, now);
    const place = this.place(item);
    const heartbeatIn = (seen: number | undefined) => (seen ?? now) + WAITING.heartbeatMs - now;
    const leaseEndIn = (item.expiresAt ?? now) - now + 1;
    let wait: number;
    if (place === 1) {
      wait = Math.min(
        clamp(held / 4, WAITING.floorMs, WAITING.firstMaxMs),
        heartbeatIn(item.waiterSeen),
        leaseEndIn,
      );
    } else if (place === 2) {
      wait = Math.min(
        clamp(held / 2, WAITING.secondMinMs, WAITING.secondMaxMs),
        heartbeatIn(item.waiter2Seen),
        leaseEndIn,
      );
    } else if (isFree(item, now) && slotTakenByOther(item, this.owner, now)) {
      // Free, and the first in line is about to take it: look when it would count as silent.
      wait = Math.min(slotStaleAt(item) - now + 1, WAITING.othersMinMs);
    } else {
      const { min, max } = othersLook(held);
      wait = min + (max - min) * Math.random();
    }
    return Math.max(1, Math.min(Math.max(WAITING.floorMs, wait), remainingMs));
  }

  /** Sleeps `ms`, or less if a release in this process wakes this caller (first in line). */
  sleep(ms: number): Promise<void> {
    const lock = lockKey(this.table, this.lockId);
    const me = holderKey(this.me);
    return new Promise((resolve) => {
      const waiting = sleepers.get(lock) ?? new Map<string, () => void>();
      sleepers.set(lock, waiting);
      const done = () => {
        clearTimeout(timer);
        if (waiting.get(me) === done) waiting.delete(me);
        if (waiting.size === 0) sleepers.delete(lock);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiting.set(me, done);
    });
  }

  /** Reads the lock item (strongly consistent). */
  async read(): Promise<WaitedItem> {
    return (await readLockItem<WaitedItem>(this.table, this.lockId)) ?? { lockId: this.lockId };
  }

  // May take `slot`: it is empty or silent (after any deferral), or held by a later caller.
  private mayClaim(item: WaitedItem, slot: Slot, now: number): boolean {
    return slotLive(item, slot, now) ? !this.cameBefore(item, slot) : now >= this.deferUntil;
  }

  // True when `slot`'s holder began waiting before this caller.
  private cameBefore(item: WaitedItem, slot: Slot): boolean {
    return (item[slot.since] ?? 0) <= this.since;
  }

  // One conditional write that answers with the item either way. `names` must be exactly the
  // ones the expressions use: DynamoDB refuses any other.
  private async update(
    set: string,
    condition: string,
    values: Record<string, unknown>,
    names: Record<string, string>,
  ): Promise<WaitedItem> {
    try {
      const { Attributes } = await request(() =>
        this.table.client.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { lockId: this.lockId },
            UpdateExpression: set,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':me': this.owner, ...values },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return Attributes as WaitedItem;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return failedItem<WaitedItem>(err) ?? { lockId: this.lockId };
    }
  }
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** How long the current holder has held the lock (0 when free). */
const heldFor = (item: LockItem, now: number): number =>
  isFree(item, now) ? 0 : now - ((item.expiresAt ?? now) - (item.leaseMs ?? 0));
