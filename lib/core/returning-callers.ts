// Which locks this process has just released into contention. A caller that releases a lock
// others wait for and at once asks for it again would otherwise win it back every time: it
// asks first, while the others only look from time to time. Knowing it is returning, it waits
// behind them instead (see Waiter's `deferMs`).
import { othersLook, WAITING } from './waiting.js';

/** How soon after its release a caller asking again counts as returning. */
const RETURNING_MS = 1_000;
/** Most locks remembered; the oldest are forgotten first. */
const MAX_REMEMBERED = 1_000;

/** Remembers, per lock, grants won by waiting and releases made while others waited. */
export class ReturningCallers {
  private readonly contendedGrants = new Map<string, { token: number; at: number }>();
  private readonly released = new Map<string, { at: number; heldMs: number | undefined }>();

  /** A grant of `lockId` won by waiting at `now`: others were after the lock too. */
  noteContendedGrant(lockId: string, token: number, now: number): void {
    remember(this.contendedGrants, lockId, { token, at: now });
  }

  /**
   * A release of `lockId`'s grant `token`; `othersWaiting` when a caller waited next in line.
   */
  noteRelease(lockId: string, token: number, othersWaiting: boolean, now: number): void {
    const grant = this.contendedGrants.get(lockId);
    this.contendedGrants.delete(lockId);
    const contended = grant?.token === token;
    if (contended || othersWaiting) {
      remember(this.released, lockId, { at: now, heldMs: contended ? now - grant.at : undefined });
    }
  }

  /**
   * How long a caller asking for `lockId` now should leave the lock to those already waiting:
   * 0 unless it returns to a lock it just released into contention; then as long as the others
   * take to look once, by the hold it just had (their looks follow the holder's hold).
   */
  takeDeferMs(lockId: string, now: number): number {
    const released = this.released.get(lockId);
    this.released.delete(lockId);
    if (released === undefined || now - released.at >= RETURNING_MS) return 0;
    return othersLook(released.heldMs ?? WAITING.othersMaxMs).max;
  }
}

function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as string);
}
