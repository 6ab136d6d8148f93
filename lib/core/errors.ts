/**
 * What an error may say of its cause: `ErrorOptions` spelled out, so consumers compiling
 * for targets before ES2022 can use these declarations.
 */
export interface ErrorCause {
  cause?: unknown;
}

/**
 * The JSON form of an error on every wire (HTTP body, direct-invocation error, `lockctl --json`):
 * `error` names the class, `message` is for people, and the class's own fields follow. The lock
 * id is not among them: it is the request's, and every decoder knows it from the request.
 */
export interface ErrorBody {
  error: string;
  message: string;
  [field: string]: unknown;
}

/**
 * Base class of the lock **outcomes**: the lock is held, was lost, the input was invalid, or a
 * fenced write came too late. A fault (DynamoDB or the service unreachable or failing) is a
 * {@link LockServiceUnavailable} instead, so `instanceof LockError` tells the two apart.
 *
 * @example
 * try { await locks.acquire('orders/42', { owner: 'worker-1' }); }
 * catch (err) { if (err instanceof LockError) console.log(err.name); else throw err; }
 */
export class LockError extends Error {
  constructor(message: string, options?: ErrorCause) {
    super(message, options);
    this.name = 'LockError';
  }

  /** The error's fields for the wire; each subclass adds its own. */
  toJSON(): ErrorBody {
    return { error: this.name, message: this.message };
  }
}

/** The holder of a lock, as a refusal reports it. */
export interface Holder {
  /** The holder's id; empty when the lock is free but others wait for it first. */
  owner: string;
  /** Epoch ms at which the holder's lease ends unless renewed. */
  expiresAt: number;
  /** How long until that lease ends, in ms (0 when it ends now). */
  retryAfterMs: number;
  /** Callers waiting next in line before this one, when the refusal is for them. @default none */
  waiting?: number;
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
    holder: Holder,
    options?: ErrorCause,
  ) {
    super(
      holder.owner === '' && holder.waiting
        ? `lock "${lockId}" is free, but ${holder.waiting} waiting caller(s) come first`
        : `lock "${lockId}" is held by "${holder.owner}" for another ${holder.retryAfterMs} ms`,
      options,
    );
    this.name = 'LockHeld';
    this.owner = holder.owner;
    this.expiresAt = holder.expiresAt;
    this.retryAfterMs = holder.retryAfterMs;
    if (holder.waiting !== undefined) this.waiting = holder.waiting;
  }

  /** Callers waiting next in line before this one (a free lock refused for them only). */
  readonly waiting?: number;

  override toJSON(): ErrorBody {
    const { owner, expiresAt, retryAfterMs, waiting } = this;
    return {
      ...super.toJSON(),
      owner,
      expiresAt,
      retryAfterMs,
      ...(waiting === undefined ? {} : { waiting }),
    };
  }
}

/**
 * A renew named a grant that is no longer current: it was released, force released, or taken
 * over after it expired.
 *
 * @example
 * catch (err) { if (err instanceof LockLost) abortWork(); }
 */
export class LockLost extends LockError {
  constructor(
    readonly lockId: string,
    message = `lock "${lockId}" is no longer held by this owner and token`,
    options?: ErrorCause,
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
    /** The name of the rejected field or option, as the caller spelled it (`leaseMs`, `owner`, ...). */
    readonly field: string,
    message: string,
    options?: ErrorCause,
  ) {
    super(message, options);
    this.name = 'ValidationError';
  }

  override toJSON(): ErrorBody {
    return { ...super.toJSON(), field: this.field };
  }
}

/**
 * The caller may not do this: the action is kept for operators, or the lock id is outside the
 * caller's scope. The message names the refused action or id and nothing of the lock's holder
 * or data, which belong to someone the caller may not see.
 *
 * @example
 * catch (err) { if (err instanceof AccessDenied) console.log(err.message); }
 */
export class AccessDenied extends LockError {
  constructor(message: string, options?: ErrorCause) {
    super(message, options);
    this.name = 'AccessDenied';
  }
}

/**
 * A fenced write or read presented a token lower than one the protected item has already
 * accepted: a newer holder has touched the item since.
 *
 * @example
 * catch (err) { if (err instanceof FencedOut) console.log(err.token, err.acceptedToken); }
 */
export class FencedOut extends LockError {
  constructor(
    /** The stale token that was presented. */
    readonly token: number,
    /** The highest token the item has accepted (NaN if the item did not say). */
    readonly acceptedToken: number,
    options?: ErrorCause,
  ) {
    super(`token ${token} is stale: the resource has accepted token ${acceptedToken}`, options);
    this.name = 'FencedOut';
  }

  override toJSON(): ErrorBody {
    // JSON has no NaN: an unknown accepted token travels as null.
    const accepted = Number.isFinite(this.acceptedToken) ? this.acceptedToken : null;
    return { ...super.toJSON(), token: this.token, acceptedToken: accepted };
  }
}

/**
 * DynamoDB refused a fenced write or read as invalid (its `ValidationException`: a key that
 * does not match the table's, an attribute value it cannot store, an item over 400 KB, ...).
 * Not a {@link ValidationError}: that one is this package refusing input before any request.
 * Nothing was written; `cause` is DynamoDB's error.
 *
 * @example
 * catch (err) { if (err instanceof FencedWriteRejected) console.log(err.tableName, err.cause); }
 */
export class FencedWriteRejected extends Error {
  constructor(
    /** The table the fenced write or read went to. */
    readonly tableName: string,
    /** DynamoDB's own words. */
    reason: string,
    options?: ErrorCause,
  ) {
    super(`DynamoDB refused the fenced write to table "${tableName}": ${reason}`, options);
    this.name = 'FencedWriteRejected';
  }
}

/**
 * A fault, not a lock outcome: DynamoDB, the HTTP API or the lock function could not be
 * reached or failed. Nothing is known about the lock; `cause` holds what went wrong. Every
 * transport (`dynamodb`, `http`, `lambda`) raises this same class.
 *
 * @example
 * catch (err) { if (err instanceof LockServiceUnavailable) retryLater(err.cause); }
 */
export class LockServiceUnavailable extends Error {
  constructor(
    message: string,
    options?: ErrorCause & {
      /** The HTTP status the service answered, when it answered. */
      statusCode?: number;
    },
  ) {
    super(message, options);
    this.name = 'LockServiceUnavailable';
    this.statusCode = options?.statusCode;
  }

  /** The HTTP status the service answered, if any (a Lambda function error counts as 500). */
  readonly statusCode?: number;

  toJSON(): ErrorBody {
    return {
      error: this.name,
      message: this.message,
      ...(this.statusCode === undefined ? {} : { statusCode: this.statusCode }),
    };
  }
}
