// Which locks this process has just released into contention. A caller that releases a lock
// others wait for and at once asks for it again would otherwise win it back every time: it
// asks first, while the others only look from time to time. Knowing it is returning, it waits
// behind them instead (see Waiter's `returning`).

/** How soon after its release a caller asking again counts as returning. */
const RETURNING_MS = 1_000;
/** Most locks remembered; the oldest are forgotten first. */
const MAX_REMEMBERED = 1_000;

/** Remembers, per lock, grants won by waiting and releases made while others waited. */
export class ReturningCallers {
  private readonly contendedGrants = new Map<string, number>();
  private readonly releasedAt = new Map<string, number>();

  /** A grant of `lockId` won by waiting: others were after the lock too. */
  noteContendedGrant(lockId: string, token: number): void {
    remember(this.contendedGrants, lockId, token);
  }

  /**
   * A release of `lockId`'s grant `token`; `othersWaiting` when a caller waited next in line.
   */
  noteRelease(lockId: string, token: number, othersWaiting: boolean, now: number): void {
    const contended = this.contendedGrants.get(lockId) === token;
    this.contendedGrants.delete(lockId);
    if (contended || othersWaiting) remember(this.releasedAt, lockId, now);
  }

  /** True (once) when a caller asking for `lockId` now returns to a lock just released. */
  takeReturning(lockId: string, now: number): boolean {
    const releasedAt = this.releasedAt.get(lockId);
    this.releasedAt.delete(lockId);
    return releasedAt !== undefined && now - releasedAt < RETURNING_MS;
  }
}

function remember(map: Map<string, number>, key: string, value: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as string);
}
