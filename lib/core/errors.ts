/**
 * Base class of every error the lock library raises, so callers can tell lock
 * outcomes from infrastructure faults with one `instanceof`.
 *
 * @example
 * try { await locks.acquire('orders/42', { owner: 'worker-1' }); }
 * catch (err) { if (err instanceof LockError) console.log(err.name); }
 */
export class LockError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LockError';
  }
}

/**
 * The lock is held by someone else and its lease has not ended.
 *
 * @example
 * catch (err) { if (err instanceof LockHeld) await sleep(err.retryAfterMs); }
 */
export class LockHeld extends LockError {
  /** The current holder's id. */
  readonly owner: string;
  /** Epoch ms at which the current lease ends unless renewed. */
  readonly expiresAt: number;
  /** How long until the current lease ends, in ms (0 when it ends now). */
  readonly retryAfterMs: number;

  constructor(
    readonly lockId: string,
    holder: { owner: string; expiresAt: number; retryAfterMs: number },
    options?: ErrorOptions,
  ) {
    super(
      `lock "${lockId}" is held by "${holder.owner}" for another ${holder.retryAfterMs} ms`,
      options,
    );
    this.name = 'LockHeld';
    this.owner = holder.owner;
    this.expiresAt = holder.expiresAt;
    this.retryAfterMs = holder.retryAfterMs;
  }
}

/**
 * A renew named a grant that is no longer current: it was released, force
 * released, or taken over after it expired.
 *
 * @example
 * catch (err) { if (err instanceof LockLost) abortWork(); }
 */
export class LockLost extends LockError {
  constructor(
    readonly lockId: string,
    message = `lock "${lockId}" is no longer held by this owner and token`,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'LockLost';
  }
}

/**
 * An input was rejected before anything was written.
 *
 * @example
 * catch (err) { if (err instanceof ValidationError) console.log(err.field); }
 */
export class ValidationError extends LockError {
  constructor(
    /** The name of the rejected field, as the caller spelled it (`leaseMs`, `owner`, ...). */
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ValidationError';
  }
}

/**
 * A fenced write or read presented a token lower than one the protected item
 * has already accepted: a newer holder has touched the item since.
 *
 * @example
 * catch (err) { if (err instanceof FencedOut) console.log(err.token, err.acceptedToken); }
 */
export class FencedOut extends LockError {
  constructor(
    /** The stale token that was presented. */
    readonly token: number,
    /** The highest token the item has accepted. */
    readonly acceptedToken: number,
    options?: ErrorOptions,
  ) {
    super(`token ${token} is stale: the resource has accepted token ${acceptedToken}`, options);
    this.name = 'FencedOut';
  }
}
